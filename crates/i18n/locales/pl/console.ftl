# Konsola skarbników, /console. Komunikaty ze zmiennymi są też szablonami dla skryptu konsoli,
# który wstawia {name}: dlatego bez wyboru form liczby; liczności są sformułowane tak, by
# czytały się z każdą liczbą.

console-title = zbor · konsola skarbnika
console-logout = Wyloguj się
console-loading = Wczytywanie…
console-start-failed = Nie udało się uruchomić konsoli: { $reason }

## Logowanie
console-login = Zaloguj się
console-login-email = E-mail
console-login-password = Hasło
console-login-code = 6-cyfrowy kod z aplikacji uwierzytelniającej (puste przy pierwszym logowaniu, zanim ją skonfigurujesz)
console-login-failed = Logowanie nie powiodło się: { $reason }
console-treasurers-need-code = Skarbnicy logują się 6-cyfrowym kodem z aplikacji uwierzytelniającej.
console-session-ended = Sesja wygasła. Zaloguj się ponownie.
console-logged-out = Wylogowano.
console-logout-failed = Wylogowanie nie powiodło się: { $reason }
console-signed-in = Zalogowano jako użytkownik #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (ty)

## Konfiguracja aplikacji uwierzytelniającej
console-enrol-heading = Skonfiguruj aplikację uwierzytelniającą
console-enrol-explained = Administratorzy i skarbnicy logują się 6-cyfrowym kodem z aplikacji uwierzytelniającej w telefonie (np. Aegis, FreeOTP, Google Authenticator). Zeskanuj nią ten kod albo wpisz sekret ręcznie. Jest pokazywany tylko ten jeden raz: nie fotografuj go i nigdzie nie wysyłaj.
console-enrol-qr = Kod QR sekretu twojej aplikacji uwierzytelniającej
console-enrol-secret = Sekret:
console-enrol-code = 6-cyfrowy kod, który teraz pokazuje aplikacja
console-enrol-submit = Potwierdź
console-enrol-failed = Konfiguracja aplikacji nie powiodła się: { $reason }
console-enrol-refused = Nie potwierdzono: { $reason }

## Wstrzymanie wypłat
console-switch-label = Wypłaty
console-switch-running = działają
console-switch-paused = WSTRZYMANE
console-switch-unknown = nieznany stan
console-switch-reason = Powód: { $reason }
console-switch-votes = O wznowienie poprosili: { $users }
console-pause-reason = Powód
console-pause-reason-placeholder = dlaczego wszystko staje
console-pause-submit = Wstrzymaj wszystkie wypłaty
console-paused = Wstrzymano. Żadna wypłata nie wyjdzie, dopóki dwóch skarbników ich nie wznowi.
console-code = 6-cyfrowy kod
console-fresh-code = Nowy 6-cyfrowy kod
console-resume-submit = Wznów wypłaty
console-resume-two = Wznowić muszą dwaj różni skarbnicy.
console-resumed = Wznowiono: wypłaty znów działają.
console-resume-recorded = Zapisano. Wznowić musi jeszcze inny skarbnik.

## Paczki
console-batches-heading = Paczki wypłat
console-awaiting-heading = Czekają na moje zatwierdzenie
console-awaiting-empty = Nic nie czeka na twoje zatwierdzenie.
console-all-batches-heading = Wszystkie paczki
console-batches-empty = Nie ma jeszcze paczek.
console-batch-link = Paczka { $id }
console-approvals-of = { $given } z { $required }
console-column-batch = Paczka
console-column-campaign = Zbiórka
console-column-status = Status
console-column-total = Razem
console-column-items = Pozycje
console-column-unfinished = Niezakończone
console-column-approvals = Zatwierdzenia
console-column-created-by = Utworzył(a)

## Nowi odbiorcy
console-payees-heading = Nowi odbiorcy czekają na drugiego skarbnika
console-payees-explained = Nowy lub zmieniony rachunek docelowy jest opłacany dopiero wtedy, gdy potwierdzi go skarbnik inny niż ten, który go wprowadził. Przed potwierdzeniem porównaj każdy z prośbą samej osoby (ostatnie cztery znaki).
console-column-confirm = Potwierdź
console-column-beneficiary = Odbiorca
console-column-destination = Dokąd
console-column-set-by = Wprowadził(a)
console-column-note = Uwaga
console-payee-confirm = Potwierdź rachunek docelowy odbiorcy #{ $id }
console-payee-own = wprowadzono przez ciebie: potwierdza inny skarbnik
console-payee-set-by-host = administrator serwera
console-changed-since-last-payout = zmieniony od ostatniej wypłaty
console-payees-submit = Potwierdź wybrane rachunki
console-payees-none-ticked = Najpierw zaznacz rachunki, które sprawdzono.
console-payees-confirmed = Potwierdzone rachunki: { $count }.

## Księga a Stripe, wyciągi bankowe
console-reconcile-heading = Księga a Stripe
console-reconcile-none = Nie przeprowadzono jeszcze uzgodnienia.
console-reconcile-clean = Od { $from } do { $to } ({ $trigger }, { $at }): zgodne { $matched }, w drodze { $transit }, bez rozbieżności.
console-reconcile-differences = Od { $from } do { $to } ({ $trigger }, { $at }): zgodne { $matched }, w drodze { $transit }, rozbieżności do sprawdzenia: { $count }.
console-column-difference = Rozbieżność
console-column-kind = Rodzaj
console-column-stripe-object = Obiekt Stripe
console-column-stripe = Stripe
console-column-ledger = Księga
console-statements-heading = Wyciągi bankowe
console-statement-file = Plik camt.053 lub camt.054
console-statement-submit = Importuj
console-statement-summary = Wyciąg { $statement } ({ $kind }): opłacone { $paid }, zwrócone { $returned }, już zapisane { $recorded }, wypłaty Stripe { $stripe }, niedopasowane { $unmatched }.
console-statement-again = Zaimportowano już wcześniej; nic się nie zmieniło. { $summary }
console-column-entry = Zapis
console-column-direction = Kierunek
console-column-amount = Kwota
console-column-booked = Zaksięgowano
console-column-unmatched-why = Dlaczego nic nie pasowało

## Jedna paczka
console-back = ← Wszystkie paczki
console-batch-heading = Paczka { $id }
console-batch-total = { $total }, pozycje: { $count }
console-hash-label = Skrót zawartości: to, co podpisuje zatwierdzenie
console-batch-changed = Paczka zmieniła się, gdy ją przeglądano: sprawdź ją ponownie przed zatwierdzeniem.
console-counts-heading = Pozycje według stanu
console-count = { $state }: { $count }
console-batch-live = Odświeżane co sekundę, dopóki wypłaty są w drodze.
console-approve-heading = Zatwierdź
console-approve-submit = Zatwierdź tę paczkę
console-approve-explained = Zatwierdzasz paczkę o skrócie pokazanym wyżej, dokładnie w takiej postaci, jak wymieniono poniżej.
console-approving = Zatwierdzanie…
console-approved-released = Zatwierdzono. Paczka jest zwolniona: wypłaty są w drodze.
console-approved-more = Zatwierdzono. Potrzebne jeszcze zatwierdzenia: { $count }.
console-why-not-created = Ta paczka jest przez ciebie utworzona: zatwierdzają ją inni skarbnicy.
console-why-not-approved = Ta paczka jest już przez ciebie zatwierdzona; czeka na innego skarbnika.
console-why-not-role = Paczki zatwierdzają tylko skarbnicy.
console-sepa-heading = Plik SEPA
console-sepa-make = Utwórz plik SEPA
console-sepa-making = Tworzenie pliku…
console-sepa-made = Plik SEPA #{ $id }: przelewy { $count }, { $total }, do wykonania { $date }. Jego wypłaty są teraz wysłane.
console-sepa-download = Pobierz pain.001.xml
console-sepa-audited = Zawiera nazwiska i numery IBAN: każde pobranie jest zapisywane w dzienniku audytu.
console-sepa-downloaded = Pobrano plik SEPA #{ $id }.
console-items-heading = Pozycje
console-column-payout = Wypłata
console-column-state = Stan
console-column-actions = Działania
console-not-confirmed = niepotwierdzony przez drugiego skarbnika
console-account-hidden = [rachunek ukryty]

## Dla każdej wypłaty
console-retry = Ponów
console-cancel = Anuluj
console-cancel-confirm = Anulować wypłatę #{ $id }? Jej środki wrócą do zbiórki.
console-attempts = { $method }, próby: { $count }
console-note-placeholder = uwaga (opcjonalnie)
console-note-label = Uwaga do wypłaty #{ $id }
console-mark-paid = Oznacz jako opłaconą
console-payout-working = Wypłata #{ $id }: w toku…
console-payout-now = Wypłata #{ $id } ma teraz stan „{ $state }”.

## Słowa dla kodów API
console-state-awaiting_approval = czeka na zatwierdzenie
console-state-approved = zatwierdzona
console-state-sending = wysyłana
console-state-sent = wysłana
console-state-paid = opłacona
console-state-failed = nieudana
console-state-cancelled = anulowana
console-state-reversed = cofnięta
console-status-awaiting_approval = czeka na zatwierdzenie
console-status-approved = zatwierdzona
console-status-cancelled = anulowana
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = ręcznie
console-role-admin = administrator
console-role-treasurer = skarbnik
console-role-coordinator = koordynator
console-trigger-daily = codziennie
console-trigger-api = na żądanie
console-trigger-cli = z wiersza poleceń
console-trigger-payout = wypłata Stripe
console-difference-missing_in_ledger = brak w księdze
console-difference-missing_at_stripe = brak w Stripe
console-difference-amount_differs = inna kwota
console-direction-credit = uznanie
console-direction-debit = obciążenie

## Odmowy: kody błędów API, które może napotkać konsola
console-error-network = Nie udało się połączyć z serwerem; spróbuj ponownie.
console-error-unexpected = Coś poszło nie tak na tej stronie: { $detail }
console-error-other = Odmowa (błąd { $status }, { $code }).
console-error-bad_credentials = Nieprawidłowy e-mail lub hasło albo konto jest zablokowane.
console-error-second_factor_required = Wpisz 6-cyfrowy kod z aplikacji uwierzytelniającej.
console-error-bad_second_factor = Kod jednorazowy jest nieprawidłowy albo został już użyty: poczekaj na następny kod.
console-error-account_locked = Zbyt wiele nieudanych prób: konto jest zablokowane na 15 minut.
console-error-unauthorized = Nie zalogowano.
console-error-forbidden = Twoja rola na to nie pozwala.
console-error-four_eyes = Jedna osoba nie może wykonać obu kroków: musi to zrobić inny skarbnik.
console-error-payouts_paused = Wypłaty są wstrzymane: najpierw muszą je wznowić dwaj skarbnicy.
console-error-destination_locked = Tego rachunku nie można zmienić, dopóki wypłata na niego jest w drodze lub nieudana: najpierw anuluj tę wypłatę.
console-error-destination_not_approved = To nie jest rachunek zatwierdzony przez skarbników: nic nie wypłacono.
console-error-destination_unconfirmed = Jeden z rachunków w tej paczce nie jest jeszcze potwierdzony przez drugiego skarbnika.
console-error-insufficient_funds = Zbiórka nie ma na to dość pieniędzy.
console-error-invalid_statement = Ten plik nie jest wyciągiem camt.053 ani camt.054, który konsola potrafi odczytać.
console-error-conflict = Niemożliwe w obecnym stanie (coś mogło się w międzyczasie zmienić): sprawdź ponownie.
console-error-not_found = Nie znaleziono: być może usunięto.
console-error-invalid_request = Serwer odrzucił te wartości jako nieprawidłowe.
console-error-bad_request = Serwer nie mógł odczytać żądania.
console-error-rate_limited = Zbyt wiele żądań: poczekaj chwilę i spróbuj ponownie.
console-error-upstream_unavailable = Stripe jest nieosiągalny: spróbuj później.
console-error-sepa_not_configured = Pliki SEPA nie są jeszcze skonfigurowane na tym serwerze.
console-error-people_not_configured = Konta pracowników nie są jeszcze skonfigurowane na tym serwerze.
console-error-payload_too_large = Plik jest za duży.
console-error-internal = Awaria serwera; została zapisana w dzienniku. Spróbuj później.
