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
give-frequency = Jak często
give-once = Jednorazowo
give-monthly = Co miesiąc
give-monthly-hint = Wpłata comiesięczna jest pobierana raz w miesiącu, dopóki jej nie zatrzymasz. Przed płatnością otrzymasz link, którym w każdej chwili możesz ją samodzielnie zatrzymać.
give-email = Adres e-mail do potwierdzenia wpłaty (opcjonalnie)
give-email-hint = Tylko jeśli nie wpłacasz anonimowo. Adres trafia do Stripe, który wysyła potwierdzenie; { $name } go nie przechowuje.
give-error-email = Wpisz pełny adres e-mail, na przykład name@example.org, albo zostaw to pole puste.
give-monthly-link-heading = Zachowaj link do zatrzymania wpłaty comiesięcznej
give-monthly-link-body = Tym linkiem możesz w każdej chwili zatrzymać wpłatę comiesięczną, bez zakładania konta. Zachowaj go teraz, na przykład w notatkach albo w wiadomości do siebie: nie możemy wysłać go ponownie.
give-monthly-link-label = Twój link do zatrzymania wpłaty comiesięcznej
give-monthly-link-copy = Kopiuj link
give-monthly-link-copied = Link skopiowany. Zachowaj go w bezpiecznym miejscu.

## The thank-you page

thanks-title = Dziękujemy!
thanks-body = Twoja wpłata na „{ $title }” zostanie doliczona do sumy, gdy tylko Stripe ją potwierdzi (polecenie zapłaty trwa kilka dni).
thanks-receipt = Numer Twojego potwierdzenia: { $reference }
thanks-receipt-hint = Podaj go, jeśli napiszesz do nas w sprawie wpłaty.
thanks-see-total = Zobacz zebraną sumę
thanks-back = Wróć do zbiórki
thanks-monthly-link-body = Oto jeszcze raz Twój link do zatrzymania wpłaty comiesięcznej. Zachowaj go: nie możemy wysłać go ponownie.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Twoja wpłata comiesięczna
monthly-cancel-intro = Tutaj możesz od razu zatrzymać wpłatę comiesięczną albo zarządzać nią na stronie Stripe.
monthly-cancel-stop = Zatrzymaj moją wpłatę comiesięczną
monthly-cancel-manage = Zarządzaj w Stripe
monthly-cancel-working = Chwileczkę…
monthly-cancel-done = Twoja wpłata comiesięczna została zatrzymana. Nic więcej nie zostanie pobrane. Dziękujemy za wsparcie!
monthly-cancel-already = Ta wpłata comiesięczna jest już zatrzymana. Nic więcej nie zostanie pobrane.
monthly-cancel-no-token = Ta strona potrzebuje Twojego osobistego linku do zatrzymania wpłaty comiesięcznej. Otwórz cały link otrzymany przy rozpoczęciu wpłat.
monthly-cancel-not-found = Ten link nie należy do żadnej wpłaty comiesięcznej. Sprawdź, czy link jest kompletny. Jeśli płatność była przed chwilą, spróbuj ponownie za minutę.
monthly-cancel-busy = W tej chwili jest zbyt wiele zapytań. Spróbuj ponownie za minutę.

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
