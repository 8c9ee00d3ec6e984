# zbor's donor and coordinator pages. Every catalogue has the same messages with the same
# variables (the zbor-i18n tests check it). Amounts arrive already formatted for the language.
# Messages the pages' scripts use get each variable as "{name}": word them without plural
# selection on those variables.

## The language switcher

# This language's name in itself.
language-name = English
language-switcher = Language

## The organisation (from the server's configuration)

org-organised-by = Organised by { $name }
org-contact = Contact: { $contact }
org-legal = Legal notice
org-privacy = Privacy
stripe-note = Payments are handled by Stripe; { $name } never sees card details.

## The give page

give-title = Give · { $title }
give-amount = Amount
give-other-amount = Other amount
give-amount-hint = For example 25 or 25.50
give-anonymous = Give anonymously (no name or email is kept)
give-submit = Continue to payment
give-payment-link = Or give any amount on Stripe's page
give-closed = This campaign is closed and takes no new donations. Thank you.
give-overflow-notice = “{ $from }” has reached its goal – thank you. New gifts now go to this campaign.
give-progress-heading = Progress
give-raised-of-goal = { $raised } raised of { $goal }
give-people-funded = People funded: { $funded } of { $total }
give-share-heading = Share this page
give-share-copy = Copy link
give-share-copied = Link copied.
give-share-email = Email
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Please support: { $title }
give-error-missing = Please choose or enter an amount.
give-error-format = Please enter an amount like 25 or 25.50.
give-error-amount = Stripe cannot take this amount: it is too small or too large. Please enter an amount like 25 or 25.50.
give-error-closed = This campaign is closed and takes no new donations.
give-error-busy = Many people are giving right now. Please try again in a minute.
give-busy-redirect = Many people are giving right now; taking you to the payment page…
give-error-generic = Something went wrong. Please try again.
give-error-network = Could not reach the server. Please check your connection and try again.
give-frequency = How often
give-once = Once
give-monthly = Every month
give-monthly-hint = A monthly gift is charged once a month until you stop it. Before paying you get a link to stop it yourself, at any time.
give-email = Email for a receipt (optional)
give-email-hint = Only if you do not give anonymously. The address goes to Stripe, which sends the receipt; { $name } does not keep it.
give-error-email = Please enter a whole email address, like name@example.org, or leave the field empty.
give-monthly-link-heading = Keep your link to stop the monthly gift
give-monthly-link-body = With this link you can stop your monthly gift at any time, without an account. Please keep it now, for example in a note or an email to yourself: we cannot send it to you again.
give-monthly-link-label = Your link to stop the monthly gift
give-monthly-link-copy = Copy the link
give-monthly-link-copied = Link copied. Keep it somewhere safe.

## The thank-you page

thanks-title = Thank you
thanks-body = Your gift to { $title } counts in the total as soon as Stripe confirms it (bank debits take a few days).
thanks-receipt = Your receipt reference: { $reference }
thanks-receipt-hint = Please quote it if you write to us about your donation.
thanks-see-total = See the total
thanks-back = Back to the campaign
thanks-monthly-link-body = Here is your link to stop the monthly gift once more. Please keep it: we cannot send it to you again.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Your monthly gift
monthly-cancel-intro = Here you can stop your monthly gift at once, or manage it on Stripe's page.
monthly-cancel-stop = Stop my monthly gift
monthly-cancel-manage = Manage in Stripe
monthly-cancel-working = One moment…
monthly-cancel-done = Your monthly gift is stopped. Nothing more will be charged. Thank you for your support.
monthly-cancel-already = This monthly gift is already stopped. Nothing more will be charged.
monthly-cancel-no-token = This page needs your personal link to stop a monthly gift. Please open the whole link you kept when you started giving.
monthly-cancel-not-found = This link belongs to no monthly gift. Please check that you opened the whole link. If you paid only a moment ago, try again in a minute.
monthly-cancel-busy = Too many requests just now. Please try again in a minute.

## The coordinators' dashboard

dashboard-title = { $title } · live total
dashboard-connecting = connecting…
dashboard-live = live
dashboard-reconnecting = reconnecting…
dashboard-raised = Raised
dashboard-goal = Goal
dashboard-people-funded = People funded
dashboard-funded-of = { $funded } of { $total }
dashboard-donations = Donations
dashboard-progress = { $percent } of the goal
dashboard-refunded = Refunded
dashboard-fees = Fees
dashboard-net = Net
dashboard-updated = Updated
dashboard-funded-explained = People funded counts the money left after Stripe's fees and refunds, divided by the amount each person receives.
dashboard-give-link = Open the give page
dashboard-chart-heading = Donations over the last 3 hours
dashboard-chart-label = Bar chart of the number of donations over the last 3 hours
dashboard-chart-y = Donations
dashboard-chart-x = Time
dashboard-chart-bar = { $time }: { $amount } (donations: { $count })
dashboard-chart-empty = No donations in the last 3 hours.
dashboard-recent-heading = Latest donations
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } or more
dashboard-recent-count = × { $count }
dashboard-recent-empty = No donations yet.

## Not found, and the server's own address (/)

notfound-title = Page not found
notfound-body = There is no campaign at this address. Please check the link you were given.
notfound-home = Go to the website of { $name }
notfound-root-title = Donations for { $name }
notfound-root-body = This server takes donations for { $name }. Each campaign has its own page: please use the link the organisers shared.
