# Беларуская (тэкст у сучасным нарматыўным правапісе). Гл. en/pages.ftl для каментарыяў.

## The language switcher

language-name = Беларуская
language-switcher = Мова

## The organisation

org-organised-by = Арганізатар: { $name }
org-contact = Кантакт: { $contact }
org-legal = Юрыдычная інфармацыя
org-privacy = Прыватнасць
stripe-note = Плацяжы апрацоўвае Stripe; { $name } ніколі не бачыць звестак вашай карткі.

## The give page

give-title = Ахвяраваць · { $title }
give-amount = Сума
give-other-amount = Іншая сума
give-amount-hint = Напрыклад, 25 або 25,50
give-anonymous = Ахвяраваць ананімна (імя і электронная пошта не захоўваюцца)
give-submit = Перайсці да аплаты
give-payment-link = Або ахвяруйце любую суму на старонцы Stripe
give-closed = Гэты збор закрыты і больш не прымае ахвяраванняў. Дзякуй!
give-overflow-notice = Збор «{ $from }» дасягнуў сваёй мэты – дзякуй. Новыя ахвяраванні цяпер ідуць у гэты збор.
give-progress-heading = Як ідзе збор
give-raised-of-goal = Сабрана { $raised } з { $goal }
give-people-funded = Атрымалі дапамогу: { $funded } з { $total }
give-share-heading = Падзяліцца старонкай
give-share-copy = Скапіяваць спасылку
give-share-copied = Спасылка скапіявана.
give-share-email = Электронная пошта
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Падтрымайце: { $title }
give-error-missing = Калі ласка, выберыце або ўвядзіце суму.
give-error-format = Калі ласка, увядзіце суму, напрыклад 25 або 25,50.
give-error-amount = Stripe не можа прыняць такую суму: яна замалая або завялікая. Калі ласка, увядзіце суму, напрыклад 25 або 25,50.
give-error-closed = Гэты збор закрыты і больш не прымае ахвяраванняў.
give-error-busy = Зараз ахвяруе вельмі шмат людзей. Калі ласка, паспрабуйце зноў праз хвіліну.
give-busy-redirect = Зараз ахвяруе вельмі шмат людзей; перанакіроўваем вас на старонку аплаты…
give-error-generic = Нешта пайшло не так. Калі ласка, паспрабуйце яшчэ раз.
give-error-network = Не ўдалося звязацца з серверам. Праверце падключэнне і паспрабуйце яшчэ раз.
give-frequency = Як часта
give-once = Адзін раз
give-monthly = Штомесяц
give-monthly-hint = Штомесячнае ахвяраванне спісваецца раз на месяц, пакуль вы яго не спыніце. Перад аплатай вы атрымаеце спасылку, каб спыніць яго самастойна ў любы час.
give-email = Электронная пошта для квітанцыі (неабавязкова)
give-email-hint = Толькі калі вы ахвяруеце не ананімна. Адрас атрымае Stripe, які і дашле квітанцыю; { $name } яго не захоўвае.
give-error-email = Калі ласка, увядзіце поўны адрас электроннай пошты, напрыклад name@example.org, або пакіньце поле пустым.
give-monthly-link-heading = Захавайце спасылку, каб спыніць штомесячнае ахвяраванне
give-monthly-link-body = Па гэтай спасылцы вы можаце спыніць штомесячнае ахвяраванне ў любы час, без уліковага запісу. Калі ласка, захавайце яе зараз, напрыклад у нататках або ў лісце самому сабе: даслаць яе вам яшчэ раз мы не зможам.
give-monthly-link-label = Ваша спасылка, каб спыніць штомесячнае ахвяраванне
give-monthly-link-copy = Скапіяваць спасылку
give-monthly-link-copied = Спасылка скапіявана. Захавайце яе ў надзейным месцы.

## The thank-you page

thanks-title = Дзякуй!
thanks-body = Ваша ахвяраванне на «{ $title }» трапіць у агульную суму, як толькі Stripe яго пацвердзіць (банкаўскае спісанне займае некалькі дзён).
thanks-receipt = Нумар вашай квітанцыі: { $reference }
thanks-receipt-hint = Калі ласка, назавіце яго, калі будзеце пісаць нам пра ахвяраванне.
thanks-see-total = Паглядзець агульную суму
thanks-back = Вярнуцца да збору
thanks-monthly-link-body = Вось яшчэ раз ваша спасылка, каб спыніць штомесячнае ахвяраванне. Калі ласка, захавайце яе: даслаць яе вам яшчэ раз мы не зможам.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Ваша штомесячнае ахвяраванне
monthly-cancel-intro = Тут вы можаце адразу спыніць штомесячнае ахвяраванне або кіраваць ім на старонцы Stripe.
monthly-cancel-stop = Спыніць маё штомесячнае ахвяраванне
monthly-cancel-manage = Кіраваць у Stripe
monthly-cancel-working = Хвілінку…
monthly-cancel-done = Ваша штомесячнае ахвяраванне спынена. Больш нічога не будзе спісвацца. Дзякуй за вашу падтрымку!
monthly-cancel-already = Гэтае штомесячнае ахвяраванне ўжо спынена. Больш нічога не будзе спісвацца.
monthly-cancel-no-token = Для гэтай старонкі патрэбная ваша асабістая спасылка, каб спыніць штомесячнае ахвяраванне. Калі ласка, адкрыйце цалкам спасылку, якую вы захавалі, калі пачыналі ахвяраваць.
monthly-cancel-not-found = Гэтая спасылка не адпавядае ніводнаму штомесячнаму ахвяраванню. Праверце, ці адкрылі вы спасылку цалкам. Калі вы заплацілі толькі што, паспрабуйце зноў праз хвіліну.
monthly-cancel-busy = Зараз занадта шмат запытаў. Калі ласка, паспрабуйце зноў праз хвіліну.

## The coordinators' dashboard

dashboard-title = { $title } · сума ў рэальным часе
dashboard-connecting = падлучэнне…
dashboard-live = у рэальным часе
dashboard-reconnecting = паўторнае падлучэнне…
dashboard-raised = Сабрана
dashboard-goal = Мэта
dashboard-people-funded = Атрымалі дапамогу
dashboard-funded-of = { $funded } з { $total }
dashboard-donations = Ахвяраванні
dashboard-progress = { $percent } ад мэты
dashboard-refunded = Вернута
dashboard-fees = Камісіі
dashboard-net = Чыстая сума
dashboard-updated = Абноўлена
dashboard-funded-explained = Колькасць людзей, якія атрымалі дапамогу, лічыцца з грошай, што засталіся пасля камісій Stripe і вяртанняў, падзеленых на суму для аднаго чалавека.
dashboard-give-link = Адкрыць старонку ахвяраванняў
dashboard-chart-heading = Ахвяраванні за апошнія 3 гадзіны
dashboard-chart-label = Слупковая дыяграма колькасці ахвяраванняў за апошнія 3 гадзіны
dashboard-chart-y = Ахвяраванні
dashboard-chart-x = Час
dashboard-chart-bar = { $time }: { $amount } (ахвяраванняў: { $count })
dashboard-chart-empty = За апошнія 3 гадзіны ахвяраванняў не было.
dashboard-recent-heading = Апошнія ахвяраванні
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } і больш
dashboard-recent-count = × { $count }
dashboard-recent-empty = Ахвяраванняў пакуль няма.

## Not found, and the server's own address (/)

notfound-title = Старонка не знойдзена
notfound-body = Па гэтым адрасе няма збору. Калі ласка, праверце спасылку, якую вы атрымалі.
notfound-home = Сайт арганізацыі: { $name }
notfound-root-title = Ахвяраванні: { $name }
notfound-root-body = Гэты сервер прымае ахвяраванні; арганізатар — { $name }. У кожнага збору свая старонка: калі ласка, скарыстайцеся спасылкай, якой падзяліліся арганізатары.
