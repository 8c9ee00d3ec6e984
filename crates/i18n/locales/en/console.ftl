# The treasurers' console, /console. Messages with a variable are also templates for the
# console's script, which fills in {name}: so no plural selection here; counts are worded
# to read right with any number.

console-title = zbor · treasurer console
console-logout = Log out
console-loading = Loading…
console-start-failed = The console could not start: { $reason }

## Logging in
console-login = Log in
console-login-email = Email
console-login-password = Password
console-login-code = 6-digit code from your authenticator app (empty at your first log in, before you set one up)
console-login-failed = Log in failed: { $reason }
console-treasurers-need-code = Treasurers log in with the 6-digit code from their authenticator app.
console-session-ended = Your session has ended. Please log in again.
console-logged-out = You have logged out.
console-logout-failed = Logging out failed: { $reason }
console-signed-in = Signed in as user #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (you)

## Setting up the authenticator app
console-enrol-heading = Set up your authenticator app
console-enrol-explained = Admins and treasurers log in with a 6-digit code from an authenticator app on their phone (e.g. Aegis, FreeOTP, Google Authenticator). Scan this code with it, or type the secret in. It is shown this once: do not photograph it or send it anywhere.
console-enrol-qr = QR code of your authenticator secret
console-enrol-secret = Secret:
console-enrol-code = The 6-digit code the app now shows
console-enrol-submit = Confirm
console-enrol-failed = Setting up the app failed: { $reason }
console-enrol-refused = Not confirmed: { $reason }

## The pause switch
console-switch-label = Payouts
console-switch-running = running
console-switch-paused = PAUSED
console-switch-unknown = unknown
console-switch-reason = Reason: { $reason }
console-switch-votes = Asked to resume: { $users }
console-pause-reason = Reason
console-pause-reason-placeholder = why everything stops
console-pause-submit = Pause all payouts
console-paused = Paused. No payout leaves until two treasurers resume.
console-code = 6-digit code
console-fresh-code = Fresh 6-digit code
console-resume-submit = Resume payouts
console-resume-two = Two different treasurers must resume.
console-resumed = Resumed: payouts run again.
console-resume-recorded = Recorded. Another treasurer must also resume.

## Batches
console-batches-heading = Payout batches
console-awaiting-heading = Awaiting my approval
console-awaiting-empty = Nothing awaits your approval.
console-all-batches-heading = All batches
console-batches-empty = No batches yet.
console-batch-link = Batch { $id }
console-approvals-of = { $given } of { $required }
console-column-batch = Batch
console-column-campaign = Campaign
console-column-status = Status
console-column-total = Total
console-column-items = Items
console-column-unfinished = Unfinished
console-column-approvals = Approvals
console-column-created-by = Created by

## New payees
console-payees-heading = New payees awaiting a second treasurer
console-payees-explained = A new or changed destination is paid only after a treasurer other than the one who set it confirms it. Check each against the person's own request (their last four digits) before you confirm.
console-column-confirm = Confirm
console-column-beneficiary = Beneficiary
console-column-destination = Destination
console-column-set-by = Set by
console-column-note = Note
console-payee-confirm = Confirm the destination of beneficiary #{ $id }
console-payee-own = you set this: another treasurer confirms it
console-payee-set-by-host = the host
console-changed-since-last-payout = changed since the last payout
console-payees-submit = Confirm the selected destinations
console-payees-none-ticked = Tick the destinations you checked first.
console-payees-confirmed = Confirmed { $count } destination(s).

## The ledger against Stripe, bank statements
console-reconcile-heading = The ledger against Stripe
console-reconcile-none = No reconciliation has run yet.
console-reconcile-clean = { $from } to { $to } ({ $trigger }, { $at }): { $matched } matched, { $transit } in transit, no differences.
console-reconcile-differences = { $from } to { $to } ({ $trigger }, { $at }): { $matched } matched, { $transit } in transit, { $count } difference(s) to look at.
console-column-difference = Difference
console-column-kind = Kind
console-column-stripe-object = Stripe object
console-column-stripe = Stripe
console-column-ledger = Ledger
console-statements-heading = Bank statements
console-statement-file = camt.053 or camt.054 file
console-statement-submit = Import
console-statement-summary = Statement { $statement } ({ $kind }): { $paid } paid, { $returned } returned, { $recorded } already recorded, { $stripe } Stripe payouts, { $unmatched } unmatched.
console-statement-again = Imported before; nothing changed. { $summary }
console-column-entry = Entry
console-column-direction = Direction
console-column-amount = Amount
console-column-booked = Booked
console-column-unmatched-why = Why it matched nothing

## One batch
console-back = ← All batches
console-batch-heading = Batch { $id }
console-batch-total = { $total } in { $count } item(s)
console-hash-label = Content hash: what an approval signs
console-batch-changed = This batch changed while you were looking at it: review it again before you approve.
console-counts-heading = Items per state
console-count = { $state }: { $count }
console-batch-live = Updating every second while payouts are on their way.
console-approve-heading = Approve
console-approve-submit = Approve this batch
console-approve-explained = You approve the batch whose hash is shown above, exactly as listed below.
console-approving = Approving…
console-approved-released = Approved. The batch is released: payouts are on their way.
console-approved-more = Approved. { $count } more approval(s) needed.
console-why-not-created = You created this batch: other treasurers approve it.
console-why-not-approved = You have approved this batch; it waits for another treasurer.
console-why-not-role = Only treasurers approve batches.
console-sepa-heading = SEPA file
console-sepa-make = Make SEPA file
console-sepa-making = Making the file…
console-sepa-made = SEPA file #{ $id }: { $count } transfer(s), { $total }, to be executed on { $date }. Its payouts are now sent.
console-sepa-download = Download pain.001.xml
console-sepa-audited = It holds names and IBANs: each download is audited.
console-sepa-downloaded = SEPA file #{ $id } downloaded.
console-items-heading = Items
console-column-payout = Payout
console-column-state = State
console-column-actions = Actions
console-not-confirmed = not confirmed by a second treasurer
console-account-hidden = [account hidden]

## Per payout
console-retry = Retry
console-cancel = Cancel
console-cancel-confirm = Cancel payout #{ $id }? Its funds return to the campaign.
console-attempts = { $method }, attempts: { $count }
console-note-placeholder = note (optional)
console-note-label = Note for payout #{ $id }
console-mark-paid = Mark paid
console-payout-working = Payout #{ $id }: working…
console-payout-now = Payout #{ $id } is now { $state }.

## Words for the API's codes
console-state-awaiting_approval = awaiting approval
console-state-approved = approved
console-state-sending = sending
console-state-sent = sent
console-state-paid = paid
console-state-failed = failed
console-state-cancelled = cancelled
console-state-reversed = reversed
console-status-awaiting_approval = awaiting approval
console-status-approved = approved
console-status-cancelled = cancelled
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = by hand
console-role-admin = admin
console-role-treasurer = treasurer
console-role-coordinator = coordinator
console-trigger-daily = daily
console-trigger-api = on request
console-trigger-cli = command line
console-trigger-payout = Stripe payout
console-difference-missing_in_ledger = missing in the ledger
console-difference-missing_at_stripe = missing at Stripe
console-difference-amount_differs = amount differs
console-direction-credit = credit
console-direction-debit = debit

## Refusals: the API's error codes the console can meet
console-error-network = The server could not be reached; try again.
console-error-unexpected = Something went wrong in this page: { $detail }
console-error-other = Refused (error { $status }, { $code }).
console-error-bad_credentials = The email or password is wrong, or the account is locked.
console-error-second_factor_required = Enter the 6-digit code from your authenticator app.
console-error-bad_second_factor = The one-time code is wrong or was already used: wait for the next code.
console-error-account_locked = Too many failed attempts: the account is locked for 15 minutes.
console-error-unauthorized = You are not logged in.
console-error-forbidden = Your role may not do this.
console-error-four_eyes = One person cannot do both steps: another treasurer must do this.
console-error-payouts_paused = Payouts are paused: two treasurers must resume them first.
console-error-destination_locked = This destination cannot change while a payout to it is on its way or failed: cancel that payout first.
console-error-destination_not_approved = The destination is not the one the treasurers approved: nothing was paid.
console-error-destination_unconfirmed = A destination in this batch is not yet confirmed by a second treasurer.
console-error-insufficient_funds = The campaign does not hold enough money for this.
console-error-invalid_statement = This file is not a camt.053 or camt.054 statement the console can read.
console-error-conflict = Not possible in its current state (it may have changed meanwhile): look at it again.
console-error-not_found = Not found: it may have been removed.
console-error-invalid_request = The server refused these values as invalid.
console-error-bad_request = The server could not read the request.
console-error-rate_limited = Too many requests: wait a moment and try again.
console-error-upstream_unavailable = Stripe could not be reached: try again later.
console-error-sepa_not_configured = SEPA files are not set up on this server yet.
console-error-people_not_configured = Staff accounts are not set up on this server yet.
console-error-payload_too_large = The file is too large.
console-error-internal = The server failed; it has been logged. Try again later.
