# Die Konsole der Kassenwarte, /console. Meldungen mit Variablen sind auch Vorlagen für das
# Skript der Konsole, das {name} einsetzt: daher keine Pluralauswahl; Anzahlen sind so
# formuliert, dass sie mit jeder Zahl passen.

console-title = zbor · Konsole für Kassenwarte
console-logout = Abmelden
console-loading = Wird geladen…
console-start-failed = Die Konsole konnte nicht starten: { $reason }

## Anmelden
console-login = Anmelden
console-login-email = E-Mail
console-login-password = Passwort
console-login-code = 6-stelliger Code aus Ihrer Authenticator-App (bei der ersten Anmeldung leer lassen, bevor Sie eine eingerichtet haben)
console-login-failed = Anmeldung fehlgeschlagen: { $reason }
console-treasurers-need-code = Kassenwarte melden sich mit dem 6-stelligen Code aus ihrer Authenticator-App an.
console-session-ended = Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.
console-logged-out = Sie haben sich abgemeldet.
console-logout-failed = Abmelden fehlgeschlagen: { $reason }
console-signed-in = Angemeldet als Benutzer #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (Sie)

## Die Authenticator-App einrichten
console-enrol-heading = Richten Sie Ihre Authenticator-App ein
console-enrol-explained = Admins und Kassenwarte melden sich mit einem 6-stelligen Code aus einer Authenticator-App auf ihrem Telefon an (z. B. Aegis, FreeOTP, Google Authenticator). Scannen Sie damit diesen Code oder geben Sie das Geheimnis von Hand ein. Es wird nur dieses eine Mal gezeigt: fotografieren Sie es nicht und senden Sie es nirgendwohin.
console-enrol-qr = QR-Code Ihres Authenticator-Geheimnisses
console-enrol-secret = Geheimnis:
console-enrol-code = Der 6-stellige Code, den die App jetzt zeigt
console-enrol-submit = Bestätigen
console-enrol-failed = Einrichten der App fehlgeschlagen: { $reason }
console-enrol-refused = Nicht bestätigt: { $reason }

## Der Stoppschalter
console-switch-label = Auszahlungen
console-switch-running = laufen
console-switch-paused = ANGEHALTEN
console-switch-unknown = unbekannt
console-switch-reason = Grund: { $reason }
console-switch-votes = Um Fortsetzung gebeten: { $users }
console-pause-reason = Grund
console-pause-reason-placeholder = warum alles anhält
console-pause-submit = Alle Auszahlungen anhalten
console-paused = Angehalten. Keine Auszahlung geht hinaus, bis zwei Kassenwarte sie fortsetzen.
console-code = 6-stelliger Code
console-fresh-code = Neuer 6-stelliger Code
console-resume-submit = Auszahlungen fortsetzen
console-resume-two = Zwei verschiedene Kassenwarte müssen fortsetzen.
console-resumed = Fortgesetzt: Auszahlungen laufen wieder.
console-resume-recorded = Vermerkt. Ein weiterer Kassenwart muss ebenfalls fortsetzen.

## Stapel
console-batches-heading = Auszahlungsstapel
console-awaiting-heading = Warten auf meine Freigabe
console-awaiting-empty = Nichts wartet auf Ihre Freigabe.
console-all-batches-heading = Alle Stapel
console-batches-empty = Noch keine Stapel.
console-batch-link = Stapel { $id }
console-approvals-of = { $given } von { $required }
console-column-batch = Stapel
console-column-campaign = Kampagne
console-column-status = Status
console-column-total = Summe
console-column-items = Posten
console-column-unfinished = Offen
console-column-approvals = Freigaben
console-column-created-by = Erstellt von

## Neue Empfänger
console-payees-heading = Neue Empfänger warten auf einen zweiten Kassenwart
console-payees-explained = Ein neues oder geändertes Auszahlungsziel wird erst bezahlt, wenn ein anderer Kassenwart als der, der es eingetragen hat, es bestätigt. Gleichen Sie jedes vor dem Bestätigen mit der eigenen Anfrage der Person ab (ihren letzten vier Zeichen).
console-column-confirm = Bestätigen
console-column-beneficiary = Empfänger
console-column-destination = Ziel
console-column-set-by = Eingetragen von
console-column-note = Hinweis
console-payee-confirm = Auszahlungsziel von Empfänger #{ $id } bestätigen
console-payee-own = von Ihnen eingetragen: ein anderer Kassenwart bestätigt es
console-payee-set-by-host = der Serverbetreiber
console-changed-since-last-payout = seit der letzten Auszahlung geändert
console-payees-submit = Ausgewählte Ziele bestätigen
console-payees-none-ticked = Kreuzen Sie zuerst die Ziele an, die Sie geprüft haben.
console-payees-confirmed = Bestätigte Ziele: { $count }.

## Das Hauptbuch gegen Stripe, Kontoauszüge
console-reconcile-heading = Das Hauptbuch gegen Stripe
console-reconcile-none = Es gab noch keinen Abgleich.
console-reconcile-clean = { $from } bis { $to } ({ $trigger }, { $at }): { $matched } übereinstimmend, { $transit } unterwegs, keine Abweichungen.
console-reconcile-differences = { $from } bis { $to } ({ $trigger }, { $at }): { $matched } übereinstimmend, { $transit } unterwegs, zu prüfende Abweichungen: { $count }.
console-column-difference = Abweichung
console-column-kind = Art
console-column-stripe-object = Stripe-Objekt
console-column-stripe = Stripe
console-column-ledger = Hauptbuch
console-statements-heading = Kontoauszüge
console-statement-file = Datei camt.053 oder camt.054
console-statement-submit = Importieren
console-statement-summary = Auszug { $statement } ({ $kind }): bezahlt { $paid }, zurückgekommen { $returned }, bereits erfasst { $recorded }, Stripe-Auszahlungen { $stripe }, ohne Treffer { $unmatched }.
console-statement-again = Bereits früher importiert; nichts hat sich geändert. { $summary }
console-column-entry = Buchung
console-column-direction = Richtung
console-column-amount = Betrag
console-column-booked = Gebucht
console-column-unmatched-why = Warum nichts passte

## Ein Stapel
console-back = ← Alle Stapel
console-batch-heading = Stapel { $id }
console-batch-total = { $total }, Posten: { $count }
console-hash-label = Inhalts-Hash: was eine Freigabe unterschreibt
console-batch-changed = Dieser Stapel hat sich geändert, während Sie ihn ansahen: prüfen Sie ihn erneut, bevor Sie ihn freigeben.
console-counts-heading = Posten nach Zustand
console-count = { $state }: { $count }
console-batch-live = Wird jede Sekunde aktualisiert, solange Auszahlungen unterwegs sind.
console-approve-heading = Freigeben
console-approve-submit = Diesen Stapel freigeben
console-approve-explained = Sie geben den Stapel mit dem oben gezeigten Hash frei, genau wie unten aufgeführt.
console-approving = Wird freigegeben…
console-approved-released = Freigegeben. Der Stapel ist ausgelöst: die Auszahlungen sind unterwegs.
console-approved-more = Freigegeben. Noch nötige Freigaben: { $count }.
console-why-not-created = Sie haben diesen Stapel erstellt: andere Kassenwarte geben ihn frei.
console-why-not-approved = Sie haben diesen Stapel freigegeben; er wartet auf einen anderen Kassenwart.
console-why-not-role = Nur Kassenwarte geben Stapel frei.
console-sepa-heading = SEPA-Datei
console-sepa-make = SEPA-Datei erstellen
console-sepa-making = Datei wird erstellt…
console-sepa-made = SEPA-Datei #{ $id }: Überweisungen { $count }, { $total }, auszuführen am { $date }. Ihre Auszahlungen sind jetzt versendet.
console-sepa-download = pain.001.xml herunterladen
console-sepa-audited = Sie enthält Namen und IBANs: jeder Download wird im Prüfprotokoll vermerkt.
console-sepa-downloaded = SEPA-Datei #{ $id } heruntergeladen.
console-items-heading = Posten
console-column-payout = Auszahlung
console-column-state = Zustand
console-column-actions = Aktionen
console-not-confirmed = nicht von einem zweiten Kassenwart bestätigt
console-account-hidden = [Konto verborgen]

## Je Auszahlung
console-retry = Erneut versuchen
console-cancel = Stornieren
console-cancel-confirm = Auszahlung #{ $id } stornieren? Ihr Geld geht an die Kampagne zurück.
console-attempts = { $method }, Versuche: { $count }
console-note-placeholder = Hinweis (optional)
console-note-label = Hinweis zu Auszahlung #{ $id }
console-mark-paid = Als bezahlt markieren
console-payout-working = Auszahlung #{ $id }: in Arbeit…
console-payout-now = Auszahlung #{ $id } ist jetzt „{ $state }“.

## Wörter für die Codes der API
console-state-awaiting_approval = wartet auf Freigabe
console-state-approved = freigegeben
console-state-sending = wird gesendet
console-state-sent = gesendet
console-state-paid = bezahlt
console-state-failed = fehlgeschlagen
console-state-cancelled = storniert
console-state-reversed = rückgängig gemacht
console-status-awaiting_approval = wartet auf Freigabe
console-status-approved = freigegeben
console-status-cancelled = storniert
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = von Hand
console-role-admin = Admin
console-role-treasurer = Kassenwart
console-role-coordinator = Koordinator
console-trigger-daily = täglich
console-trigger-api = auf Anfrage
console-trigger-cli = Kommandozeile
console-trigger-payout = Stripe-Auszahlung
console-difference-missing_in_ledger = fehlt im Hauptbuch
console-difference-missing_at_stripe = fehlt bei Stripe
console-difference-amount_differs = Betrag weicht ab
console-direction-credit = Gutschrift
console-direction-debit = Lastschrift

## Ablehnungen: die Fehlercodes der API, auf die die Konsole treffen kann
console-error-network = Der Server war nicht erreichbar; versuchen Sie es erneut.
console-error-unexpected = Auf dieser Seite ist etwas schiefgegangen: { $detail }
console-error-other = Abgelehnt (Fehler { $status }, { $code }).
console-error-bad_credentials = E-Mail oder Passwort ist falsch, oder das Konto ist gesperrt.
console-error-second_factor_required = Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.
console-error-bad_second_factor = Der Einmalcode ist falsch oder wurde schon benutzt: warten Sie auf den nächsten Code.
console-error-account_locked = Zu viele Fehlversuche: das Konto ist für 15 Minuten gesperrt.
console-error-unauthorized = Sie sind nicht angemeldet.
console-error-forbidden = Ihre Rolle darf das nicht.
console-error-four_eyes = Eine Person kann nicht beide Schritte tun: ein anderer Kassenwart muss das tun.
console-error-payouts_paused = Die Auszahlungen sind angehalten: zuerst müssen zwei Kassenwarte sie fortsetzen.
console-error-destination_locked = Dieses Ziel kann sich nicht ändern, solange eine Auszahlung dorthin unterwegs oder fehlgeschlagen ist: stornieren Sie diese zuerst.
console-error-destination_not_approved = Das Ziel ist nicht das von den Kassenwarten freigegebene: nichts wurde gezahlt.
console-error-destination_unconfirmed = Ein Ziel in diesem Stapel ist noch nicht von einem zweiten Kassenwart bestätigt.
console-error-insufficient_funds = Die Kampagne hat dafür nicht genug Geld.
console-error-invalid_statement = Diese Datei ist kein Auszug camt.053 oder camt.054, den die Konsole lesen kann.
console-error-conflict = In seinem jetzigen Zustand nicht möglich (es hat sich womöglich inzwischen geändert): sehen Sie es sich erneut an.
console-error-not_found = Nicht gefunden: es wurde womöglich entfernt.
console-error-invalid_request = Der Server hat diese Werte als ungültig abgelehnt.
console-error-bad_request = Der Server konnte die Anfrage nicht lesen.
console-error-rate_limited = Zu viele Anfragen: warten Sie einen Moment und versuchen Sie es erneut.
console-error-upstream_unavailable = Stripe war nicht erreichbar: versuchen Sie es später.
console-error-sepa_not_configured = SEPA-Dateien sind auf diesem Server noch nicht eingerichtet.
console-error-people_not_configured = Mitarbeiterkonten sind auf diesem Server noch nicht eingerichtet.
console-error-payload_too_large = Die Datei ist zu groß.
console-error-internal = Der Server hatte einen Fehler; er wurde protokolliert. Versuchen Sie es später.
