# Polski. Komentarze do komunikatów: en/pages.ftl.

## The language switcher

language-name = Polski
language-switcher = Język

## The organisation

org-organised-by = Organizator: { $name }
org-contact = Kontakt: { $contact }
org-legal = Informacje prawne
org-privacy = Prywatność
stripe-note = Płatności obsługuje Stripe; { $name } nigdy nie widzi danych Twojej karty.

## The give page

give-title = Wesprzyj · { $title }
give-amount = Kwota
give-other-amount = Inna kwota
give-amount-hint = Na przykład 25 lub 25,50
give-anonymous = Wpłać anonimowo (nie zapisujemy imienia ani adresu e-mail)
give-submit = Przejdź do płatności
give-payment-link = Lub wpłać dowolną kwotę na stronie Stripe
give-closed = Ta zbiórka jest zamknięta i nie przyjmuje już wpłat. Dziękujemy!
give-overflow-notice = Zbiórka „{ $from }” osiągnęła swój cel – dziękujemy. Nowe wpłaty trafiają teraz na tę zbiórkę.
give-progress-heading = Postęp zbiórki
give-raised-of-goal = Zebrano { $raised } z { $goal }
give-people-funded = Otrzymali wsparcie: { $funded } z { $total }
give-share-heading = Udostępnij tę stronę
give-share-copy = Kopiuj link
give-share-copied = Link skopiowany.
give-share-email = E-mail
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Wesprzyj: { $title }
give-error-missing = Wybierz lub wpisz kwotę.
give-error-format = Wpisz kwotę, na przykład 25 lub 25,50.
give-error-amount = Stripe nie może przyjąć tej kwoty: jest za mała lub za duża. Wpisz kwotę, na przykład 25 lub 25,50.
give-error-closed = Ta zbiórka jest zamknięta i nie przyjmuje już wpłat.
give-error-busy = W tej chwili wpłaca bardzo wiele osób. Spróbuj ponownie za minutę.
give-busy-redirect = W tej chwili wpłaca bardzo wiele osób; przekierowujemy Cię na stronę płatności…
give-error-generic = Coś poszło nie tak. Spróbuj ponownie.
give-error-network = Nie udało się połączyć z serwerem. Sprawdź połączenie i spróbuj ponownie.

## The thank-you page

thanks-title = Dziękujemy!
thanks-body = Twoja wpłata na „{ $title }” zostanie doliczona do sumy, gdy tylko Stripe ją potwierdzi (polecenie zapłaty trwa kilka dni).
thanks-receipt = Numer Twojego potwierdzenia: { $reference }
thanks-receipt-hint = Podaj go, jeśli napiszesz do nas w sprawie wpłaty.
thanks-see-total = Zobacz zebraną sumę
thanks-back = Wróć do zbiórki

## The coordinators' dashboard

dashboard-title = { $title } · suma na żywo
dashboard-connecting = łączenie…
dashboard-live = na żywo
dashboard-reconnecting = ponowne łączenie…
dashboard-raised = Zebrano
dashboard-goal = Cel
dashboard-people-funded = Otrzymali wsparcie
dashboard-funded-of = { $funded } z { $total }
dashboard-donations = Wpłaty
dashboard-progress = { $percent } celu
dashboard-refunded = Zwrócono
dashboard-fees = Opłaty
dashboard-net = Netto
dashboard-updated = Zaktualizowano
dashboard-funded-explained = Liczba osób, które otrzymały wsparcie, to kwota pozostała po opłatach Stripe i zwrotach, podzielona przez kwotę przypadającą na jedną osobę.
dashboard-give-link = Otwórz stronę wpłat
dashboard-chart-heading = Wpłaty z ostatnich 3 godzin
dashboard-chart-label = Wykres słupkowy liczby wpłat z ostatnich 3 godzin
dashboard-chart-y = Wpłaty
dashboard-chart-x = Czas
dashboard-chart-bar = { $time }: { $amount } (wpłat: { $count })
dashboard-chart-empty = Brak wpłat w ciągu ostatnich 3 godzin.
dashboard-recent-heading = Ostatnie wpłaty
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } i więcej
dashboard-recent-count = × { $count }
dashboard-recent-empty = Nie ma jeszcze wpłat.

## Not found, and the server's own address (/)

notfound-title = Nie znaleziono strony
notfound-body = Pod tym adresem nie ma zbiórki. Sprawdź otrzymany link.
notfound-home = Strona organizacji: { $name }
notfound-root-title = Wpłaty: { $name }
notfound-root-body = Ten serwer przyjmuje wpłaty; organizator: { $name }. Każda zbiórka ma własną stronę: skorzystaj z linku udostępnionego przez organizatorów.
