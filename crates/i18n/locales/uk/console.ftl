# Консоль скарбників, /console. Повідомлення зі змінними — також шаблони для скрипту консолі,
# який підставляє {name}: тому без вибору форм числа; кількості сформульовано так, щоб вони
# читалися з будь-яким числом.

console-title = zbor · консоль скарбника
console-logout = Вийти
console-loading = Завантаження…
console-start-failed = Консоль не змогла запуститися: { $reason }

## Вхід
console-login = Увійти
console-login-email = Електронна пошта
console-login-password = Пароль
console-login-code = 6-значний код із застосунку-автентифікатора (залиште порожнім під час першого входу, поки його не налаштовано)
console-login-failed = Не вдалося увійти: { $reason }
console-treasurers-need-code = Скарбники входять із 6-значним кодом із застосунку-автентифікатора.
console-session-ended = Сеанс завершився. Увійдіть знову.
console-logged-out = Ви вийшли.
console-logout-failed = Не вдалося вийти: { $reason }
console-signed-in = Ви увійшли як користувач #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (ви)

## Налаштування застосунку-автентифікатора
console-enrol-heading = Налаштуйте застосунок-автентифікатор
console-enrol-explained = Адміністратори та скарбники входять із 6-значним кодом із застосунку-автентифікатора на телефоні (наприклад, Aegis, FreeOTP, Google Authenticator). Відскануйте ним цей код або введіть секрет вручну. Його показано лише один раз: не фотографуйте його й нікуди не надсилайте.
console-enrol-qr = QR-код секрету вашого автентифікатора
console-enrol-secret = Секрет:
console-enrol-code = 6-значний код, який зараз показує застосунок
console-enrol-submit = Підтвердити
console-enrol-failed = Не вдалося налаштувати застосунок: { $reason }
console-enrol-refused = Не підтверджено: { $reason }

## Зупинка виплат
console-switch-label = Виплати
console-switch-running = тривають
console-switch-paused = ЗУПИНЕНО
console-switch-unknown = невідомо
console-switch-reason = Причина: { $reason }
console-switch-votes = Попросили відновити: { $users }
console-pause-reason = Причина
console-pause-reason-placeholder = чому все зупиняється
console-pause-submit = Зупинити всі виплати
console-paused = Зупинено. Жодна виплата не піде, доки два скарбники не відновлять виплати.
console-code = 6-значний код
console-fresh-code = Новий 6-значний код
console-resume-submit = Відновити виплати
console-resume-two = Відновити мають два різні скарбники.
console-resumed = Відновлено: виплати знову тривають.
console-resume-recorded = Записано. Відновити має ще один скарбник.

## Пакети
console-batches-heading = Пакети виплат
console-awaiting-heading = Чекають на моє затвердження
console-awaiting-empty = Ніщо не чекає на ваше затвердження.
console-all-batches-heading = Усі пакети
console-batches-empty = Пакетів поки немає.
console-batch-link = Пакет { $id }
console-approvals-of = { $given } з { $required }
console-column-batch = Пакет
console-column-campaign = Кампанія
console-column-status = Статус
console-column-total = Разом
console-column-items = Позиції
console-column-unfinished = Незавершені
console-column-approvals = Затвердження
console-column-created-by = Створив

## Нові отримувачі
console-payees-heading = Нові отримувачі чекають на другого скарбника
console-payees-explained = Нову чи змінену адресу виплати оплачують лише після того, як її підтвердить інший скарбник, не той, хто її вніс. Перед підтвердженням звірте кожну з власним запитом людини (останні чотири знаки).
console-column-confirm = Підтвердити
console-column-beneficiary = Отримувач
console-column-destination = Куди
console-column-set-by = Вніс
console-column-note = Примітка
console-payee-confirm = Підтвердити адресу виплати отримувача #{ $id }
console-payee-own = це внесли ви: підтверджує інший скарбник
console-payee-set-by-host = адміністратор сервера
console-changed-since-last-payout = змінено після останньої виплати
console-payees-submit = Підтвердити вибрані адреси
console-payees-none-ticked = Спочатку позначте адреси, які ви перевірили.
console-payees-confirmed = Підтверджено адрес: { $count }.

## Облікова книга і Stripe, банківські виписки
console-reconcile-heading = Облікова книга і Stripe
console-reconcile-none = Звірки ще не було.
console-reconcile-clean = З { $from } по { $to } ({ $trigger }, { $at }): збіглося { $matched }, у дорозі { $transit }, розбіжностей немає.
console-reconcile-differences = З { $from } по { $to } ({ $trigger }, { $at }): збіглося { $matched }, у дорозі { $transit }, розбіжностей, які треба перевірити: { $count }.
console-column-difference = Розбіжність
console-column-kind = Вид
console-column-stripe-object = Об'єкт Stripe
console-column-stripe = Stripe
console-column-ledger = Облікова книга
console-statements-heading = Банківські виписки
console-statement-file = Файл camt.053 або camt.054
console-statement-submit = Імпортувати
console-statement-summary = Виписка { $statement } ({ $kind }): оплачено { $paid }, повернуто { $returned }, уже враховано { $recorded }, виплат Stripe { $stripe }, не збіглося { $unmatched }.
console-statement-again = Уже імпортовано раніше; нічого не змінилося. { $summary }
console-column-entry = Запис
console-column-direction = Напрям
console-column-amount = Сума
console-column-booked = Проведено
console-column-unmatched-why = Чому нічого не збіглося

## Один пакет
console-back = ← Усі пакети
console-batch-heading = Пакет { $id }
console-batch-total = { $total }, позицій: { $count }
console-hash-label = Хеш вмісту: те, що підписує затвердження
console-batch-changed = Пакет змінився, поки ви його переглядали: перевірте його знову перед затвердженням.
console-counts-heading = Позиції за станом
console-count = { $state }: { $count }
console-batch-live = Оновлюється щосекунди, поки виплати в дорозі.
console-approve-heading = Затвердити
console-approve-submit = Затвердити цей пакет
console-approve-explained = Ви затверджуєте пакет із показаним вище хешем — саме в тому вигляді, як його перелічено нижче.
console-approving = Затверджуємо…
console-approved-released = Затверджено. Пакет випущено: виплати в дорозі.
console-approved-more = Затверджено. Потрібно ще затверджень: { $count }.
console-why-not-created = Ви створили цей пакет: затверджують інші скарбники.
console-why-not-approved = Ви вже затвердили цей пакет; він чекає на іншого скарбника.
console-why-not-role = Пакети затверджують лише скарбники.
console-sepa-heading = Файл SEPA
console-sepa-make = Створити файл SEPA
console-sepa-making = Створюємо файл…
console-sepa-made = Файл SEPA #{ $id }: переказів { $count }, { $total }, виконати { $date }. Його виплати тепер надіслано.
console-sepa-download = Завантажити pain.001.xml
console-sepa-audited = У ньому імена та IBAN: кожне завантаження записується в журнал аудиту.
console-sepa-downloaded = Файл SEPA #{ $id } завантажено.
console-items-heading = Позиції
console-column-payout = Виплата
console-column-state = Стан
console-column-actions = Дії
console-not-confirmed = не підтверджено другим скарбником
console-account-hidden = [рахунок приховано]

## Щодо кожної виплати
console-retry = Повторити
console-cancel = Скасувати
console-cancel-confirm = Скасувати виплату #{ $id }? Її кошти повернуться до кампанії.
console-attempts = { $method }, спроб: { $count }
console-note-placeholder = примітка (необов'язково)
console-note-label = Примітка до виплати #{ $id }
console-mark-paid = Позначити оплаченою
console-payout-working = Виплата #{ $id }: виконується…
console-payout-now = Виплата #{ $id } тепер у стані «{ $state }».

## Слова для кодів API
console-state-awaiting_approval = чекає на затвердження
console-state-approved = затверджено
console-state-sending = надсилається
console-state-sent = надіслано
console-state-paid = оплачено
console-state-failed = не вдалася
console-state-cancelled = скасовано
console-state-reversed = повернуто
console-status-awaiting_approval = чекає на затвердження
console-status-approved = затверджено
console-status-cancelled = скасовано
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = вручну
console-role-admin = адміністратор
console-role-treasurer = скарбник
console-role-coordinator = координатор
console-trigger-daily = щоденно
console-trigger-api = на запит
console-trigger-cli = з командного рядка
console-trigger-payout = виплата Stripe
console-difference-missing_in_ledger = немає в обліковій книзі
console-difference-missing_at_stripe = немає в Stripe
console-difference-amount_differs = сума відрізняється
console-direction-credit = надходження
console-direction-debit = списання

## Відмови: коди помилок API, які може зустріти консоль
console-error-network = Не вдалося з'єднатися із сервером; спробуйте ще раз.
console-error-unexpected = На цій сторінці щось пішло не так: { $detail }
console-error-other = Відмовлено (помилка { $status }, { $code }).
console-error-bad_credentials = Неправильна електронна пошта чи пароль, або обліковий запис заблоковано.
console-error-second_factor_required = Введіть 6-значний код із застосунку-автентифікатора.
console-error-bad_second_factor = Одноразовий код неправильний або вже використаний: дочекайтеся наступного коду.
console-error-account_locked = Забагато невдалих спроб: обліковий запис заблоковано на 15 хвилин.
console-error-unauthorized = Ви не ввійшли.
console-error-forbidden = Ваша роль цього не дозволяє.
console-error-four_eyes = Одна людина не може зробити обидва кроки: це має зробити інший скарбник.
console-error-payouts_paused = Виплати зупинено: спочатку їх мають відновити два скарбники.
console-error-destination_locked = Цю адресу не можна змінити, поки виплата на неї в дорозі або не вдалася: спочатку скасуйте ту виплату.
console-error-destination_not_approved = Адреса не та, яку затвердили скарбники: нічого не виплачено.
console-error-destination_unconfirmed = Одну з адрес у цьому пакеті ще не підтвердив другий скарбник.
console-error-insufficient_funds = У кампанії не вистачає грошей на це.
console-error-invalid_statement = Цей файл не є випискою camt.053 або camt.054, яку може прочитати консоль.
console-error-conflict = Неможливо в поточному стані (можливо, щось змінилося): перевірте знову.
console-error-not_found = Не знайдено: можливо, це видалено.
console-error-invalid_request = Сервер відхилив ці значення як неправильні.
console-error-bad_request = Сервер не зміг прочитати запит.
console-error-rate_limited = Забагато запитів: зачекайте трохи й спробуйте знову.
console-error-upstream_unavailable = Stripe недоступний: спробуйте пізніше.
console-error-sepa_not_configured = Файли SEPA на цьому сервері ще не налаштовано.
console-error-people_not_configured = Облікові записи працівників на цьому сервері ще не налаштовано.
console-error-payload_too_large = Файл завеликий.
console-error-internal = Збій на сервері; його записано в журнал. Спробуйте пізніше.
