# Iždininkų konsolė, /console. Pranešimai su kintamaisiais taip pat yra konsolės scenarijaus
# šablonai, į kuriuos jis įrašo {name}: todėl be daiskaitos formų pasirinkimo; kiekiai
# suformuluoti taip, kad tiktų su bet kokiu skaičiumi.

console-title = zbor · iždininko konsolė
console-logout = Atsijungti
console-loading = Įkeliama…
console-start-failed = Konsolės nepavyko paleisti: { $reason }

## Prisijungimas
console-login = Prisijungti
console-login-email = El. paštas
console-login-password = Slaptažodis
console-login-code = 6 skaitmenų kodas iš autentifikavimo programėlės (pirmą kartą jungiantis, kol jos dar nenustatėte, palikite tuščią)
console-login-failed = Prisijungti nepavyko: { $reason }
console-treasurers-need-code = Iždininkai jungiasi su 6 skaitmenų kodu iš autentifikavimo programėlės.
console-session-ended = Seansas baigėsi. Prisijunkite iš naujo.
console-logged-out = Atsijungėte.
console-logout-failed = Atsijungti nepavyko: { $reason }
console-signed-in = Prisijungta kaip naudotojas #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (jūs)

## Autentifikavimo programėlės nustatymas
console-enrol-heading = Nustatykite autentifikavimo programėlę
console-enrol-explained = Administratoriai ir iždininkai jungiasi su 6 skaitmenų kodu iš telefono autentifikavimo programėlės (pvz., Aegis, FreeOTP, Google Authenticator). Nuskenuokite ja šį kodą arba įveskite slaptą raktą ranka. Jis rodomas tik šį kartą: jo nefotografuokite ir niekur nesiųskite.
console-enrol-qr = Jūsų autentifikavimo slapto rakto QR kodas
console-enrol-secret = Slaptas raktas:
console-enrol-code = 6 skaitmenų kodas, kurį dabar rodo programėlė
console-enrol-submit = Patvirtinti
console-enrol-failed = Programėlės nustatyti nepavyko: { $reason }
console-enrol-refused = Nepatvirtinta: { $reason }

## Išmokų sustabdymas
console-switch-label = Išmokos
console-switch-running = vykdomos
console-switch-paused = SUSTABDYTOS
console-switch-unknown = nežinoma
console-switch-reason = Priežastis: { $reason }
console-switch-votes = Paprašė atnaujinti: { $users }
console-pause-reason = Priežastis
console-pause-reason-placeholder = kodėl viskas sustoja
console-pause-submit = Sustabdyti visas išmokas
console-paused = Sustabdyta. Jokia išmoka neišeis, kol du iždininkai jų neatnaujins.
console-code = 6 skaitmenų kodas
console-fresh-code = Naujas 6 skaitmenų kodas
console-resume-submit = Atnaujinti išmokas
console-resume-two = Atnaujinti turi du skirtingi iždininkai.
console-resumed = Atnaujinta: išmokos vėl vykdomos.
console-resume-recorded = Užregistruota. Atnaujinti turi dar vienas iždininkas.

## Paketai
console-batches-heading = Išmokų paketai
console-awaiting-heading = Laukia mano patvirtinimo
console-awaiting-empty = Niekas nelaukia jūsų patvirtinimo.
console-all-batches-heading = Visi paketai
console-batches-empty = Paketų dar nėra.
console-batch-link = Paketas { $id }
console-approvals-of = { $given } iš { $required }
console-column-batch = Paketas
console-column-campaign = Kampanija
console-column-status = Būsena
console-column-total = Iš viso
console-column-items = Pozicijos
console-column-unfinished = Nebaigtos
console-column-approvals = Patvirtinimai
console-column-created-by = Sukūrė

## Nauji gavėjai
console-payees-heading = Nauji gavėjai laukia antrojo iždininko
console-payees-explained = Nauja ar pakeista išmokos paskirtis apmokama tik tada, kai ją patvirtina kitas iždininkas nei tas, kuris ją įvedė. Prieš tvirtindami palyginkite kiekvieną su paties žmogaus prašymu (paskutiniais keturiais ženklais).
console-column-confirm = Patvirtinti
console-column-beneficiary = Gavėjas
console-column-destination = Kur
console-column-set-by = Įvedė
console-column-note = Pastaba
console-payee-confirm = Patvirtinti gavėjo #{ $id } išmokos paskirtį
console-payee-own = tai įvedėte jūs: tvirtina kitas iždininkas
console-payee-set-by-host = serverio administratorius
console-changed-since-last-payout = pakeista po paskutinės išmokos
console-payees-submit = Patvirtinti pažymėtas paskirtis
console-payees-none-ticked = Pirmiausia pažymėkite patikrintas paskirtis.
console-payees-confirmed = Patvirtinta paskirčių: { $count }.

## Knyga ir Stripe, banko išrašai
console-reconcile-heading = Apskaitos knyga ir Stripe
console-reconcile-none = Suderinimas dar nebuvo atliktas.
console-reconcile-clean = Nuo { $from } iki { $to } ({ $trigger }, { $at }): sutapo { $matched }, kelyje { $transit }, neatitikimų nėra.
console-reconcile-differences = Nuo { $from } iki { $to } ({ $trigger }, { $at }): sutapo { $matched }, kelyje { $transit }, neatitikimų, kuriuos reikia patikrinti: { $count }.
console-column-difference = Neatitikimas
console-column-kind = Rūšis
console-column-stripe-object = Stripe objektas
console-column-stripe = Stripe
console-column-ledger = Apskaitos knyga
console-statements-heading = Banko išrašai
console-statement-file = camt.053 arba camt.054 failas
console-statement-submit = Importuoti
console-statement-summary = Išrašas { $statement } ({ $kind }): apmokėta { $paid }, grąžinta { $returned }, jau užregistruota { $recorded }, Stripe išmokų { $stripe }, nesutapo { $unmatched }.
console-statement-again = Jau importuota anksčiau; niekas nepasikeitė. { $summary }
console-column-entry = Įrašas
console-column-direction = Kryptis
console-column-amount = Suma
console-column-booked = Įregistruota
console-column-unmatched-why = Kodėl niekas nesutapo

## Vienas paketas
console-back = ← Visi paketai
console-batch-heading = Paketas { $id }
console-batch-total = { $total }, pozicijų: { $count }
console-hash-label = Turinio maiša: tai, ką pasirašo patvirtinimas
console-batch-changed = Paketas pasikeitė, kol jį peržiūrėjote: prieš tvirtindami patikrinkite jį iš naujo.
console-counts-heading = Pozicijos pagal būseną
console-count = { $state }: { $count }
console-batch-live = Atnaujinama kas sekundę, kol išmokos pakeliui.
console-approve-heading = Patvirtinti
console-approve-submit = Patvirtinti šį paketą
console-approve-explained = Jūs tvirtinate paketą, kurio maiša parodyta aukščiau, būtent taip, kaip jis išvardytas žemiau.
console-approving = Tvirtinama…
console-approved-released = Patvirtinta. Paketas išleistas: išmokos pakeliui.
console-approved-more = Patvirtinta. Dar reikia patvirtinimų: { $count }.
console-why-not-created = Šį paketą sukūrėte jūs: jį tvirtina kiti iždininkai.
console-why-not-approved = Šį paketą jau patvirtinote; jis laukia kito iždininko.
console-why-not-role = Paketus tvirtina tik iždininkai.
console-sepa-heading = SEPA failas
console-sepa-make = Sukurti SEPA failą
console-sepa-making = Kuriamas failas…
console-sepa-made = SEPA failas #{ $id }: pervedimų { $count }, { $total }, įvykdyti { $date }. Jo išmokos dabar išsiųstos.
console-sepa-download = Atsisiųsti pain.001.xml
console-sepa-audited = Jame yra vardai ir IBAN: kiekvienas atsisiuntimas įrašomas į audito žurnalą.
console-sepa-downloaded = SEPA failas #{ $id } atsisiųstas.
console-items-heading = Pozicijos
console-column-payout = Išmoka
console-column-state = Būsena
console-column-actions = Veiksmai
console-not-confirmed = nepatvirtinta antrojo iždininko
console-account-hidden = [sąskaita paslėpta]

## Kiekvienai išmokai
console-retry = Kartoti
console-cancel = Atšaukti
console-cancel-confirm = Atšaukti išmoką #{ $id }? Jos lėšos grįš į kampaniją.
console-attempts = { $method }, bandymų: { $count }
console-note-placeholder = pastaba (neprivaloma)
console-note-label = Pastaba išmokai #{ $id }
console-mark-paid = Pažymėti apmokėta
console-payout-working = Išmoka #{ $id }: vykdoma…
console-payout-now = Išmokos #{ $id } būsena dabar: { $state }.

## Žodžiai API kodams
console-state-awaiting_approval = laukia patvirtinimo
console-state-approved = patvirtinta
console-state-sending = siunčiama
console-state-sent = išsiųsta
console-state-paid = apmokėta
console-state-failed = nepavyko
console-state-cancelled = atšaukta
console-state-reversed = grąžinta
console-status-awaiting_approval = laukia patvirtinimo
console-status-approved = patvirtintas
console-status-cancelled = atšauktas
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = rankiniu būdu
console-role-admin = administratorius
console-role-treasurer = iždininkas
console-role-coordinator = koordinatorius
console-trigger-daily = kasdien
console-trigger-api = pagal užklausą
console-trigger-cli = iš komandų eilutės
console-trigger-payout = Stripe išmoka
console-difference-missing_in_ledger = nėra apskaitos knygoje
console-difference-missing_at_stripe = nėra Stripe
console-difference-amount_differs = skiriasi suma
console-direction-credit = įplaukos
console-direction-debit = nurašymas

## Atsisakymai: API klaidų kodai, su kuriais gali susidurti konsolė
console-error-network = Nepavyko susisiekti su serveriu; bandykite dar kartą.
console-error-unexpected = Šiame puslapyje kažkas nepavyko: { $detail }
console-error-other = Atsisakyta (klaida { $status }, { $code }).
console-error-bad_credentials = Neteisingas el. paštas ar slaptažodis arba paskyra užblokuota.
console-error-second_factor_required = Įveskite 6 skaitmenų kodą iš autentifikavimo programėlės.
console-error-bad_second_factor = Vienkartinis kodas neteisingas arba jau panaudotas: palaukite kito kodo.
console-error-account_locked = Per daug nesėkmingų bandymų: paskyra užblokuota 15 minučių.
console-error-unauthorized = Neprisijungėte.
console-error-forbidden = Jūsų vaidmuo to neleidžia.
console-error-four_eyes = Vienas žmogus negali atlikti abiejų žingsnių: tai turi padaryti kitas iždininkas.
console-error-payouts_paused = Išmokos sustabdytos: pirmiausia jas turi atnaujinti du iždininkai.
console-error-destination_locked = Šios paskirties negalima keisti, kol išmoka į ją pakeliui arba nepavyko: pirmiausia atšaukite tą išmoką.
console-error-destination_not_approved = Paskirtis ne ta, kurią patvirtino iždininkai: nieko neišmokėta.
console-error-destination_unconfirmed = Viena šio paketo paskirtis dar nepatvirtinta antrojo iždininko.
console-error-insufficient_funds = Kampanijoje tam nepakanka pinigų.
console-error-invalid_statement = Šis failas nėra camt.053 ar camt.054 išrašas, kurį konsolė gali perskaityti.
console-error-conflict = Neįmanoma esamoje būsenoje (galbūt kažkas pasikeitė): patikrinkite iš naujo.
console-error-not_found = Nerasta: galbūt tai pašalinta.
console-error-invalid_request = Serveris atmetė šias reikšmes kaip netinkamas.
console-error-bad_request = Serveris negalėjo perskaityti užklausos.
console-error-rate_limited = Per daug užklausų: šiek tiek palaukite ir bandykite vėl.
console-error-upstream_unavailable = Stripe nepasiekiamas: bandykite vėliau.
console-error-sepa_not_configured = SEPA failai šiame serveryje dar nenustatyti.
console-error-people_not_configured = Darbuotojų paskyros šiame serveryje dar nenustatytos.
console-error-payload_too_large = Failas per didelis.
console-error-internal = Serverio klaida; ji įrašyta į žurnalą. Bandykite vėliau.
