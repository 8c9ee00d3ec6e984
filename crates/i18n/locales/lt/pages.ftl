# Lietuvių. Komentarai apie pranešimus: en/pages.ftl.

## The language switcher

language-name = Lietuvių
language-switcher = Kalba

## The organisation

org-organised-by = Organizatorius: { $name }
org-contact = Kontaktai: { $contact }
org-legal = Teisinė informacija
org-privacy = Privatumas
stripe-note = Mokėjimus tvarko Stripe; { $name } niekada nemato jūsų kortelės duomenų.

## The give page

give-title = Paaukoti · { $title }
give-amount = Suma
give-other-amount = Kita suma
give-amount-hint = Pavyzdžiui, 25 arba 25,50
give-anonymous = Aukoti anonimiškai (vardas ir el. pašto adresas nesaugomi)
give-submit = Tęsti mokėjimą
give-payment-link = Arba paaukokite bet kokią sumą Stripe puslapyje
give-closed = Šis lėšų rinkimas baigtas ir aukos nebepriimamos. Ačiū!
give-overflow-notice = Rinkimas „{ $from }“ pasiekė savo tikslą – ačiū. Naujos aukos dabar skiriamos šiam rinkimui.
give-progress-heading = Rinkimo eiga
give-raised-of-goal = Surinkta { $raised } iš { $goal }
give-people-funded = Paramą gavo: { $funded } iš { $total }
give-share-heading = Dalytis šiuo puslapiu
give-share-copy = Kopijuoti nuorodą
give-share-copied = Nuoroda nukopijuota.
give-share-email = El. paštas
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Paremkite: { $title }
give-error-missing = Pasirinkite arba įveskite sumą.
give-error-format = Įveskite sumą, pavyzdžiui, 25 arba 25,50.
give-error-amount = Stripe negali priimti šios sumos: ji per maža arba per didelė. Įveskite sumą, pavyzdžiui, 25 arba 25,50.
give-error-closed = Šis lėšų rinkimas baigtas ir aukos nebepriimamos.
give-error-busy = Šiuo metu aukoja labai daug žmonių. Bandykite dar kartą po minutės.
give-busy-redirect = Šiuo metu aukoja labai daug žmonių; nukreipiame jus į mokėjimo puslapį…
give-error-generic = Kažkas nepavyko. Bandykite dar kartą.
give-error-network = Nepavyko susisiekti su serveriu. Patikrinkite ryšį ir bandykite dar kartą.

## The thank-you page

thanks-title = Ačiū!
thanks-body = Jūsų auka rinkimui „{ $title }“ bus įskaičiuota į bendrą sumą, kai tik Stripe ją patvirtins (tiesioginis debetas užtrunka kelias dienas).
thanks-receipt = Jūsų kvito numeris: { $reference }
thanks-receipt-hint = Nurodykite jį, jei rašysite mums dėl savo aukos.
thanks-see-total = Žiūrėti bendrą sumą
thanks-back = Grįžti į rinkimo puslapį

## The coordinators' dashboard

dashboard-title = { $title } · suma realiuoju laiku
dashboard-connecting = jungiamasi…
dashboard-live = realiuoju laiku
dashboard-reconnecting = jungiamasi iš naujo…
dashboard-raised = Surinkta
dashboard-goal = Tikslas
dashboard-people-funded = Paramą gavo
dashboard-funded-of = { $funded } iš { $total }
dashboard-donations = Aukos
dashboard-progress = { $percent } tikslo
dashboard-refunded = Grąžinta
dashboard-fees = Mokesčiai
dashboard-net = Grynoji suma
dashboard-updated = Atnaujinta
dashboard-funded-explained = Paramą gavusių žmonių skaičius apskaičiuojamas iš lėšų, likusių atskaičius Stripe mokesčius ir grąžinimus, padalytų iš vienam žmogui skirtos sumos.
dashboard-give-link = Atidaryti aukojimo puslapį
dashboard-chart-heading = Aukos per pastarąsias 3 valandas
dashboard-chart-label = Stulpelinė aukų skaičiaus per pastarąsias 3 valandas diagrama
dashboard-chart-y = Aukos
dashboard-chart-x = Laikas
dashboard-chart-bar = { $time }: { $amount } (aukų: { $count })
dashboard-chart-empty = Per pastarąsias 3 valandas aukų nebuvo.
dashboard-recent-heading = Naujausios aukos
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } ir daugiau
dashboard-recent-count = × { $count }
dashboard-recent-empty = Aukų dar nėra.

## Not found, and the server's own address (/)

notfound-title = Puslapis nerastas
notfound-body = Šiuo adresu lėšų rinkimo nėra. Patikrinkite gautą nuorodą.
notfound-home = Organizacijos svetainė: { $name }
notfound-root-title = Aukos: { $name }
notfound-root-body = Šis serveris priima aukas; organizatorius: { $name }. Kiekvienas lėšų rinkimas turi savo puslapį: naudokitės nuoroda, kuria pasidalijo organizatoriai.
