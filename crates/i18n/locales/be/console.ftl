# Кансоль скарбнікаў, /console. Паведамленні са зменнымі — таксама шаблоны для скрыпту кансолі,
# які падстаўляе {name}: таму без выбару формаў ліку; колькасці сфармуляваны так, каб чыталіся
# з любым лікам.

console-title = zbor · кансоль скарбніка
console-logout = Выйсці
console-loading = Загрузка…
console-start-failed = Кансоль не змагла запусціцца: { $reason }

## Уваход
console-login = Увайсці
console-login-email = Электронная пошта
console-login-password = Пароль
console-login-code = 6-значны код з праграмы-аўтэнтыфікатара (пакіньце пустым пры першым уваходзе, пакуль яе не наладжана)
console-login-failed = Не атрымалася ўвайсці: { $reason }
console-treasurers-need-code = Скарбнікі ўваходзяць з 6-значным кодам з праграмы-аўтэнтыфікатара.
console-session-ended = Сеанс скончыўся. Увайдзіце зноў.
console-logged-out = Вы выйшлі.
console-logout-failed = Не атрымалася выйсці: { $reason }
console-signed-in = Вы ўвайшлі як карыстальнік #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (вы)

## Наладка праграмы-аўтэнтыфікатара
console-enrol-heading = Наладзьце праграму-аўтэнтыфікатар
console-enrol-explained = Адміністратары і скарбнікі ўваходзяць з 6-значным кодам з праграмы-аўтэнтыфікатара на тэлефоне (напрыклад, Aegis, FreeOTP, Google Authenticator). Адсканіруйце ёю гэты код або ўвядзіце сакрэт уручную. Ён паказваецца толькі адзін раз: не фатаграфуйце яго і нікуды не дасылайце.
console-enrol-qr = QR-код сакрэту вашага аўтэнтыфікатара
console-enrol-secret = Сакрэт:
console-enrol-code = 6-значны код, які зараз паказвае праграма
console-enrol-submit = Пацвердзіць
console-enrol-failed = Не атрымалася наладзіць праграму: { $reason }
console-enrol-refused = Не пацверджана: { $reason }

## Спыненне выплат
console-switch-label = Выплаты
console-switch-running = ідуць
console-switch-paused = СПЫНЕНЫ
console-switch-unknown = невядома
console-switch-reason = Прычына: { $reason }
console-switch-votes = Папрасілі аднавіць: { $users }
console-pause-reason = Прычына
console-pause-reason-placeholder = чаму ўсё спыняецца
console-pause-submit = Спыніць усе выплаты
console-paused = Спынена. Ніводная выплата не пойдзе, пакуль два скарбнікі не адновяць выплаты.
console-code = 6-значны код
console-fresh-code = Новы 6-значны код
console-resume-submit = Аднавіць выплаты
console-resume-two = Аднавіць павінны два розныя скарбнікі.
console-resumed = Адноўлена: выплаты зноў ідуць.
console-resume-recorded = Запісана. Аднавіць павінен яшчэ адзін скарбнік.

## Пакеты
console-batches-heading = Пакеты выплат
console-awaiting-heading = Чакаюць майго зацвярджэння
console-awaiting-empty = Нічога не чакае вашага зацвярджэння.
console-all-batches-heading = Усе пакеты
console-batches-empty = Пакетаў пакуль няма.
console-batch-link = Пакет { $id }
console-approvals-of = { $given } з { $required }
console-column-batch = Пакет
console-column-campaign = Кампанія
console-column-status = Статус
console-column-total = Разам
console-column-items = Пазіцыі
console-column-unfinished = Незавершаныя
console-column-approvals = Зацвярджэнні
console-column-created-by = Стварыў

## Новыя атрымальнікі
console-payees-heading = Новыя атрымальнікі чакаюць другога скарбніка
console-payees-explained = Новы ці зменены адрас выплаты аплачваецца толькі пасля таго, як яго пацвердзіць іншы скарбнік, чым той, хто яго ўнёс. Перад пацвярджэннем звярыце кожны з уласным запытам чалавека (апошнімі чатырма знакамі).
console-column-confirm = Пацвердзіць
console-column-beneficiary = Атрымальнік
console-column-destination = Куды
console-column-set-by = Унёс
console-column-note = Заўвага
console-payee-confirm = Пацвердзіць адрас выплаты атрымальніка #{ $id }
console-payee-own = гэта ўнеслі вы: пацвярджае іншы скарбнік
console-payee-set-by-host = адміністратар сервера
console-changed-since-last-payout = зменены пасля апошняй выплаты
console-payees-submit = Пацвердзіць выбраныя адрасы
console-payees-none-ticked = Спачатку адзначце адрасы, якія вы праверылі.
console-payees-confirmed = Пацверджана адрасоў: { $count }.

## Уліковая кніга супраць Stripe, банкаўскія выпіскі
console-reconcile-heading = Уліковая кніга і Stripe
console-reconcile-none = Звярэння яшчэ не было.
console-reconcile-clean = З { $from } па { $to } ({ $trigger }, { $at }): супала { $matched }, у дарозе { $transit }, разыходжанняў няма.
console-reconcile-differences = З { $from } па { $to } ({ $trigger }, { $at }): супала { $matched }, у дарозе { $transit }, разыходжанняў, якія трэба праверыць: { $count }.
console-column-difference = Разыходжанне
console-column-kind = Від
console-column-stripe-object = Аб'ект Stripe
console-column-stripe = Stripe
console-column-ledger = Уліковая кніга
console-statements-heading = Банкаўскія выпіскі
console-statement-file = Файл camt.053 або camt.054
console-statement-submit = Імпартаваць
console-statement-summary = Выпіска { $statement } ({ $kind }): аплачана { $paid }, вернута { $returned }, ужо ўлічана { $recorded }, выплат Stripe { $stripe }, не супала { $unmatched }.
console-statement-again = Ужо імпартавана раней; нічога не змянілася. { $summary }
console-column-entry = Запіс
console-column-direction = Кірунак
console-column-amount = Сума
console-column-booked = Праведзена
console-column-unmatched-why = Чаму нічога не супала

## Адзін пакет
console-back = ← Усе пакеты
console-batch-heading = Пакет { $id }
console-batch-total = { $total }, пазіцый: { $count }
console-hash-label = Хэш змесціва: тое, што падпісвае зацвярджэнне
console-batch-changed = Пакет змяніўся, пакуль вы яго праглядалі: праверце яго зноў перад зацвярджэннем.
console-counts-heading = Пазіцыі па стане
console-count = { $state }: { $count }
console-batch-live = Абнаўляецца кожную секунду, пакуль выплаты ў дарозе.
console-approve-heading = Зацвердзіць
console-approve-submit = Зацвердзіць гэты пакет
console-approve-explained = Вы зацвярджаеце пакет з паказаным вышэй хэшам — менавіта ў тым выглядзе, як ён пералічаны ніжэй.
console-approving = Зацвярджаем…
console-approved-released = Зацверджана. Пакет выпушчаны: выплаты ў дарозе.
console-approved-more = Зацверджана. Патрэбна яшчэ зацвярджэнняў: { $count }.
console-why-not-created = Вы стварылі гэты пакет: зацвярджаюць іншыя скарбнікі.
console-why-not-approved = Вы ўжо зацвердзілі гэты пакет; ён чакае іншага скарбніка.
console-why-not-role = Пакеты зацвярджаюць толькі скарбнікі.
console-sepa-heading = Файл SEPA
console-sepa-make = Стварыць файл SEPA
console-sepa-making = Ствараем файл…
console-sepa-made = Файл SEPA #{ $id }: пераводаў { $count }, { $total }, выканаць { $date }. Яго выплаты цяпер адпраўлены.
console-sepa-download = Спампаваць pain.001.xml
console-sepa-audited = У ім імёны і IBAN: кожнае спампоўванне запісваецца ў журнал аўдыту.
console-sepa-downloaded = Файл SEPA #{ $id } спампаваны.
console-items-heading = Пазіцыі
console-column-payout = Выплата
console-column-state = Стан
console-column-actions = Дзеянні
console-not-confirmed = не пацверджана другім скарбнікам
console-account-hidden = [рахунак схаваны]

## Па кожнай выплаце
console-retry = Паўтарыць
console-cancel = Скасаваць
console-cancel-confirm = Скасаваць выплату #{ $id }? Яе сродкі вернуцца ў кампанію.
console-attempts = { $method }, спроб: { $count }
console-note-placeholder = заўвага (неабавязкова)
console-note-label = Заўвага да выплаты #{ $id }
console-mark-paid = Пазначыць аплачанай
console-payout-working = Выплата #{ $id }: выконваецца…
console-payout-now = Выплата #{ $id } цяпер у стане «{ $state }».

## Словы для кодаў API
console-state-awaiting_approval = чакае зацвярджэння
console-state-approved = зацверджана
console-state-sending = адпраўляецца
console-state-sent = адпраўлена
console-state-paid = аплачана
console-state-failed = не ўдалася
console-state-cancelled = скасавана
console-state-reversed = вернута
console-status-awaiting_approval = чакае зацвярджэння
console-status-approved = зацверджаны
console-status-cancelled = скасаваны
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = уручную
console-role-admin = адміністратар
console-role-treasurer = скарбнік
console-role-coordinator = каардынатар
console-trigger-daily = штодзённа
console-trigger-api = па запыце
console-trigger-cli = з каманднага радка
console-trigger-payout = выплата Stripe
console-difference-missing_in_ledger = няма ва ўліковай кнізе
console-difference-missing_at_stripe = няма ў Stripe
console-difference-amount_differs = сума адрозніваецца
console-direction-credit = паступленне
console-direction-debit = спісанне

## Адмовы: коды памылак API, якія можа сустрэць кансоль
console-error-network = Не ўдалося злучыцца з серверам; паспрабуйце яшчэ раз.
console-error-unexpected = На гэтай старонцы нешта пайшло не так: { $detail }
console-error-other = Адмоўлена (памылка { $status }, { $code }).
console-error-bad_credentials = Няправільная электронная пошта ці пароль, або ўліковы запіс заблакаваны.
console-error-second_factor_required = Увядзіце 6-значны код з праграмы-аўтэнтыфікатара.
console-error-bad_second_factor = Аднаразовы код няправільны або ўжо выкарыстаны: дачакайцеся наступнага кода.
console-error-account_locked = Занадта шмат няўдалых спроб: уліковы запіс заблакаваны на 15 хвілін.
console-error-unauthorized = Вы не ўвайшлі.
console-error-forbidden = Ваша роля не дазваляе гэтага.
console-error-four_eyes = Адзін чалавек не можа зрабіць абодва крокі: гэта павінен зрабіць іншы скарбнік.
console-error-payouts_paused = Выплаты спынены: спачатку іх павінны аднавіць два скарбнікі.
console-error-destination_locked = Гэты адрас нельга змяніць, пакуль выплата на яго ў дарозе або не ўдалася: спачатку скасуйце тую выплату.
console-error-destination_not_approved = Адрас не той, які зацвердзілі скарбнікі: нічога не выплачана.
console-error-destination_unconfirmed = Адзін з адрасоў у гэтым пакеце яшчэ не пацверджаны другім скарбнікам.
console-error-insufficient_funds = У кампаніі не хапае грошай на гэта.
console-error-invalid_statement = Гэты файл не з'яўляецца выпіскай camt.053 або camt.054, якую можа прачытаць кансоль.
console-error-conflict = Немагчыма ў цяперашнім стане (магчыма, нешта змянілася): праверце зноў.
console-error-not_found = Не знойдзена: магчыма, гэта выдалена.
console-error-invalid_request = Сервер адхіліў гэтыя значэнні як няправільныя.
console-error-bad_request = Сервер не змог прачытаць запыт.
console-error-rate_limited = Занадта шмат запытаў: пачакайце крыху і паспрабуйце зноў.
console-error-upstream_unavailable = Stripe недаступны: паспрабуйце пазней.
console-error-sepa_not_configured = Файлы SEPA на гэтым серверы яшчэ не наладжаны.
console-error-people_not_configured = Уліковыя запісы супрацоўнікаў на гэтым серверы яшчэ не наладжаны.
console-error-payload_too_large = Файл занадта вялікі.
console-error-internal = Збой на серверы; ён запісаны ў журнал. Паспрабуйце пазней.
