-- How each payment was made (Stripe's `payment_method_details.type` on its charge: `card`,
-- `sepa_debit`, `paypal`, ...), for the accountant's export and for reconciliation questions
-- ("which gifts were SEPA debits that can still be returned?"). Keyed by payment intent like
-- charge_fees, because the charge event may arrive before or after its donation's. Only the
-- method's kind is kept: never a card's brand, last digits or fingerprint, never an IBAN.
create table payment_methods (
    stripe_payment_intent text primary key check (stripe_payment_intent ~ '^pi_[A-Za-z0-9_]+$'),
    method                text not null check (method ~ '^[a-z][a-z0-9_]{0,39}$'),
    created_at            timestamptz not null default now()
);
