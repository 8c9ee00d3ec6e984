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
give-frequency = Kaip dažnai
give-once = Vieną kartą
give-monthly = Kas mėnesį
give-monthly-hint = Mėnesinė auka nuskaičiuojama kartą per mėnesį, kol ją sustabdysite. Prieš mokėdami gausite nuorodą, kuria patys galėsite ją bet kada sustabdyti.
give-email = El. pašto adresas kvitui (nebūtina)
give-email-hint = Tik jei aukojate ne anonimiškai. Adresas perduodamas tik Stripe, kad atsiųstų kvitą; { $name } jo nesaugo.
give-error-email = Įveskite visą el. pašto adresą, pavyzdžiui, name@example.org, arba palikite laukelį tuščią.
give-monthly-link-heading = Išsaugokite nuorodą mėnesinei aukai sustabdyti
give-monthly-link-body = Šia nuoroda galite bet kada sustabdyti mėnesinę auką, be paskyros. Išsaugokite ją dabar, pavyzdžiui, užrašuose arba laiške sau: dar kartą jos atsiųsti negalėsime.
give-monthly-link-label = Jūsų nuoroda mėnesinei aukai sustabdyti
give-monthly-link-copy = Kopijuoti nuorodą
give-monthly-link-copied = Nuoroda nukopijuota. Išsaugokite ją saugioje vietoje.

## The thank-you page

thanks-title = Ačiū!
thanks-body = Jūsų auka rinkimui „{ $title }“ bus įskaičiuota į bendrą sumą, kai tik Stripe ją patvirtins (tiesioginis debetas užtrunka kelias dienas).
thanks-receipt = Jūsų kvito numeris: { $reference }
thanks-receipt-hint = Nurodykite jį, jei rašysite mums dėl savo aukos.
thanks-see-total = Žiūrėti bendrą sumą
thanks-back = Grįžti į rinkimo puslapį
thanks-monthly-link-body = Štai dar kartą jūsų nuoroda mėnesinei aukai sustabdyti. Išsaugokite ją: dar kartą jos atsiųsti negalėsime.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Jūsų mėnesinė auka
monthly-cancel-intro = Čia galite iš karto sustabdyti mėnesinę auką arba tvarkyti ją Stripe puslapyje.
monthly-cancel-stop = Sustabdyti mano mėnesinę auką
monthly-cancel-manage = Tvarkyti per Stripe
monthly-cancel-working = Akimirką…
monthly-cancel-done = Jūsų mėnesinė auka sustabdyta. Daugiau nieko nebus nuskaičiuota. Ačiū už jūsų paramą!
monthly-cancel-already = Ši mėnesinė auka jau sustabdyta. Daugiau nieko nebus nuskaičiuota.
monthly-cancel-no-token = Šiam puslapiui reikia jūsų asmeninės nuorodos mėnesinei aukai sustabdyti. Atidarykite visą nuorodą, kurią išsisaugojote pradėdami aukoti.
monthly-cancel-not-found = Ši nuoroda nepriklauso jokiai mėnesinei aukai. Patikrinkite, ar atidarėte visą nuorodą. Jei sumokėjote ką tik, bandykite dar kartą po minutės.
monthly-cancel-busy = Šiuo metu per daug užklausų. Bandykite dar kartą po minutės.

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
