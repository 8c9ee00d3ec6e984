-- Which PaymentIntent paid each invoice, from Stripe's `invoice_payment.paid` event. Live
-- Stripe's `invoice.paid` carries no `payments` list (it is included only when asked for), so
-- without this a renewal's donation would not know its PaymentIntent, and a refund, dispute or
-- fee of its charge would wait for it forever. Either event may arrive first: the second one
-- links them (both take the invoice's advisory lock).
create table invoice_payments (
    stripe_invoice_id     text primary key check (stripe_invoice_id ~ '^in_[A-Za-z0-9_]+$'),
    stripe_payment_intent text not null check (stripe_payment_intent ~ '^pi_[A-Za-z0-9_]+$'),
    created_at            timestamptz not null default now()
);
