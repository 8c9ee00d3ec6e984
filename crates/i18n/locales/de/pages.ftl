# Deutsch. Kommentare zu den Meldungen: en/pages.ftl.

## The language switcher

language-name = Deutsch
language-switcher = Sprache

## The organisation

org-organised-by = Organisiert von { $name }
org-contact = Kontakt: { $contact }
org-legal = Impressum
org-privacy = Datenschutz
stripe-note = Zahlungen wickelt Stripe ab; { $name } sieht Ihre Kartendaten nie.

## The give page

give-title = Spenden · { $title }
give-amount = Betrag
give-other-amount = Anderer Betrag
give-amount-hint = Zum Beispiel 25 oder 25,50
give-anonymous = Anonym spenden (Name und E-Mail-Adresse werden nicht gespeichert)
give-submit = Weiter zur Zahlung
give-payment-link = Oder spenden Sie einen beliebigen Betrag auf der Seite von Stripe
give-closed = Diese Spendenaktion ist beendet und nimmt keine Spenden mehr an. Vielen Dank!
give-overflow-notice = „{ $from }“ hat sein Ziel erreicht – danke. Neue Spenden gehen jetzt an diese Sammlung.
give-progress-heading = Fortschritt
give-raised-of-goal = { $raised } von { $goal } gesammelt
give-people-funded = Unterstützte Menschen: { $funded } von { $total }
give-share-heading = Diese Seite teilen
give-share-copy = Link kopieren
give-share-copied = Link kopiert.
give-share-email = E-Mail
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Bitte unterstützen: { $title }
give-error-missing = Bitte wählen Sie einen Betrag oder geben Sie einen ein.
give-error-format = Bitte geben Sie einen Betrag wie 25 oder 25,50 ein.
give-error-amount = Stripe kann diesen Betrag nicht annehmen: Er ist zu klein oder zu groß. Bitte geben Sie einen Betrag wie 25 oder 25,50 ein.
give-error-closed = Diese Spendenaktion ist beendet und nimmt keine Spenden mehr an.
give-error-busy = Gerade spenden sehr viele Menschen. Bitte versuchen Sie es in einer Minute noch einmal.
give-busy-redirect = Gerade spenden sehr viele Menschen; wir leiten Sie zur Zahlungsseite weiter…
give-error-generic = Etwas ist schiefgegangen. Bitte versuchen Sie es noch einmal.
give-error-network = Der Server ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es noch einmal.
give-frequency = Wie oft
give-once = Einmalig
give-monthly = Monatlich
give-monthly-hint = Eine monatliche Spende wird jeden Monat abgebucht, bis Sie sie beenden. Vor der Zahlung erhalten Sie einen Link, mit dem Sie sie jederzeit selbst beenden können.
give-email = E-Mail-Adresse für eine Quittung (optional)
give-email-hint = Nur wenn Sie nicht anonym spenden. Die Adresse geht an Stripe, das die Quittung verschickt; { $name } speichert sie nicht.
give-error-email = Bitte geben Sie eine vollständige E-Mail-Adresse wie name@example.org ein oder lassen Sie das Feld leer.
give-monthly-link-heading = Bewahren Sie Ihren Link zum Beenden der monatlichen Spende auf
give-monthly-link-body = Mit diesem Link können Sie Ihre monatliche Spende jederzeit beenden, ohne Konto. Bitte bewahren Sie ihn jetzt auf, etwa in einer Notiz oder einer E-Mail an sich selbst: Wir können ihn Ihnen nicht noch einmal schicken.
give-monthly-link-label = Ihr Link zum Beenden der monatlichen Spende
give-monthly-link-copy = Link kopieren
give-monthly-link-copied = Link kopiert. Bewahren Sie ihn sicher auf.

## The thank-you page

thanks-title = Vielen Dank!
thanks-body = Ihre Spende für „{ $title }“ zählt zur Summe, sobald Stripe sie bestätigt (Lastschriften dauern einige Tage).
thanks-receipt = Ihre Belegnummer: { $reference }
thanks-receipt-hint = Bitte geben Sie sie an, wenn Sie uns wegen Ihrer Spende schreiben.
thanks-see-total = Zur Gesamtsumme
thanks-back = Zurück zur Spendenaktion
thanks-monthly-link-body = Hier noch einmal Ihr Link zum Beenden der monatlichen Spende. Bitte bewahren Sie ihn auf: Wir können ihn Ihnen nicht noch einmal schicken.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Ihre monatliche Spende
monthly-cancel-intro = Hier können Sie Ihre monatliche Spende sofort beenden oder sie auf der Seite von Stripe verwalten.
monthly-cancel-stop = Meine monatliche Spende beenden
monthly-cancel-manage = Bei Stripe verwalten
monthly-cancel-working = Einen Moment…
monthly-cancel-done = Ihre monatliche Spende ist beendet. Es wird nichts mehr abgebucht. Danke für Ihre Unterstützung!
monthly-cancel-already = Diese monatliche Spende ist bereits beendet. Es wird nichts mehr abgebucht.
monthly-cancel-no-token = Diese Seite braucht Ihren persönlichen Link zum Beenden einer monatlichen Spende. Bitte öffnen Sie den vollständigen Link, den Sie beim Spenden aufbewahrt haben.
monthly-cancel-not-found = Dieser Link gehört zu keiner monatlichen Spende. Bitte prüfen Sie, ob Sie den vollständigen Link geöffnet haben. Wenn Sie gerade erst bezahlt haben, versuchen Sie es in einer Minute noch einmal.
monthly-cancel-busy = Gerade kommen zu viele Anfragen. Bitte versuchen Sie es in einer Minute noch einmal.

## The coordinators' dashboard

dashboard-title = { $title } · Live-Summe
dashboard-connecting = verbinde…
dashboard-live = live
dashboard-reconnecting = verbinde erneut…
dashboard-raised = Gesammelt
dashboard-goal = Ziel
dashboard-people-funded = Unterstützte Menschen
dashboard-funded-of = { $funded } von { $total }
dashboard-donations = Spenden
dashboard-progress = { $percent } des Ziels
dashboard-refunded = Erstattet
dashboard-fees = Gebühren
dashboard-net = Netto
dashboard-updated = Aktualisiert
dashboard-funded-explained = Die Zahl der unterstützten Menschen ergibt sich aus dem Geld, das nach Stripe-Gebühren und Erstattungen bleibt, geteilt durch den Betrag pro Person.
dashboard-give-link = Spendenseite öffnen
dashboard-chart-heading = Spenden der letzten 3 Stunden
dashboard-chart-label = Balkendiagramm der Anzahl der Spenden in den letzten 3 Stunden
dashboard-chart-y = Spenden
dashboard-chart-x = Uhrzeit
dashboard-chart-bar = { $time }: { $amount } (Spenden: { $count })
dashboard-chart-empty = Keine Spenden in den letzten 3 Stunden.
dashboard-recent-heading = Neueste Spenden
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } oder mehr
dashboard-recent-count = × { $count }
dashboard-recent-empty = Noch keine Spenden.

## Not found, and the server's own address (/)

notfound-title = Seite nicht gefunden
notfound-body = Unter dieser Adresse gibt es keine Spendenaktion. Bitte prüfen Sie den Link, den Sie erhalten haben.
notfound-home = Zur Website von { $name }
notfound-root-title = Spenden für { $name }
notfound-root-body = Dieser Server nimmt Spenden für { $name } an. Jede Spendenaktion hat ihre eigene Seite: Bitte nutzen Sie den Link, den die Organisatoren geteilt haben.
