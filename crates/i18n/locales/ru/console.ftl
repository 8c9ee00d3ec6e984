# Консоль казначеев, /console. Сообщения с переменными — также шаблоны для скрипта консоли,
# который подставляет {name}: поэтому без выбора форм числа; количества сформулированы так,
# чтобы читаться с любым числом.

console-title = zbor · консоль казначея
console-logout = Выйти
console-loading = Загрузка…
console-start-failed = Консоль не смогла запуститься: { $reason }

## Вход
console-login = Войти
console-login-email = Электронная почта
console-login-password = Пароль
console-login-code = 6-значный код из приложения-аутентификатора (оставьте пустым при первом входе, пока оно не настроено)
console-login-failed = Не удалось войти: { $reason }
console-treasurers-need-code = Казначеи входят с 6-значным кодом из приложения-аутентификатора.
console-session-ended = Сеанс завершился. Войдите снова.
console-logged-out = Вы вышли.
console-logout-failed = Не удалось выйти: { $reason }
console-signed-in = Вы вошли как пользователь #{ $id } ({ $role })
console-user = #{ $id }
console-user-you = #{ $id } (вы)

## Настройка приложения-аутентификатора
console-enrol-heading = Настройте приложение-аутентификатор
console-enrol-explained = Администраторы и казначеи входят с 6-значным кодом из приложения-аутентификатора на телефоне (например, Aegis, FreeOTP, Google Authenticator). Отсканируйте им этот код или введите секрет вручную. Он показывается только один раз: не фотографируйте его и никуда не отправляйте.
console-enrol-qr = QR-код секрета вашего аутентификатора
console-enrol-secret = Секрет:
console-enrol-code = 6-значный код, который сейчас показывает приложение
console-enrol-submit = Подтвердить
console-enrol-failed = Не удалось настроить приложение: { $reason }
console-enrol-refused = Не подтверждено: { $reason }

## Остановка выплат
console-switch-label = Выплаты
console-switch-running = идут
console-switch-paused = ОСТАНОВЛЕНЫ
console-switch-unknown = неизвестно
console-switch-reason = Причина: { $reason }
console-switch-votes = Попросили возобновить: { $users }
console-pause-reason = Причина
console-pause-reason-placeholder = почему всё останавливается
console-pause-submit = Остановить все выплаты
console-paused = Остановлено. Ни одна выплата не уйдёт, пока два казначея не возобновят выплаты.
console-code = 6-значный код
console-fresh-code = Новый 6-значный код
console-resume-submit = Возобновить выплаты
console-resume-two = Возобновить должны два разных казначея.
console-resumed = Возобновлено: выплаты снова идут.
console-resume-recorded = Записано. Возобновить должен ещё один казначей.

## Пакеты
console-batches-heading = Пакеты выплат
console-awaiting-heading = Ждут моего утверждения
console-awaiting-empty = Ничего не ждёт вашего утверждения.
console-all-batches-heading = Все пакеты
console-batches-empty = Пакетов пока нет.
console-batch-link = Пакет { $id }
console-approvals-of = { $given } из { $required }
console-column-batch = Пакет
console-column-campaign = Кампания
console-column-status = Статус
console-column-total = Итого
console-column-items = Позиции
console-column-unfinished = Незавершённые
console-column-approvals = Утверждения
console-column-created-by = Создал

## Новые получатели
console-payees-heading = Новые получатели ждут второго казначея
console-payees-explained = Новый или изменённый адрес выплаты оплачивается только после того, как его подтвердит другой казначей, не тот, кто его внёс. Перед подтверждением сверьте каждый с собственным запросом человека (последние четыре знака).
console-column-confirm = Подтвердить
console-column-beneficiary = Получатель
console-column-destination = Куда
console-column-set-by = Внёс
console-column-note = Примечание
console-payee-confirm = Подтвердить адрес выплаты получателя #{ $id }
console-payee-own = это внесли вы: подтверждает другой казначей
console-payee-set-by-host = администратор сервера
console-changed-since-last-payout = изменён после последней выплаты
console-payees-submit = Подтвердить выбранные адреса
console-payees-none-ticked = Сначала отметьте адреса, которые вы проверили.
console-payees-confirmed = Подтверждено адресов: { $count }.

## Учётная книга и Stripe, банковские выписки
console-reconcile-heading = Учётная книга и Stripe
console-reconcile-none = Сверки ещё не было.
console-reconcile-clean = С { $from } по { $to } ({ $trigger }, { $at }): совпало { $matched }, в пути { $transit }, расхождений нет.
console-reconcile-differences = С { $from } по { $to } ({ $trigger }, { $at }): совпало { $matched }, в пути { $transit }, расхождений, которые нужно проверить: { $count }.
console-column-difference = Расхождение
console-column-kind = Вид
console-column-stripe-object = Объект Stripe
console-column-stripe = Stripe
console-column-ledger = Учётная книга
console-statements-heading = Банковские выписки
console-statement-file = Файл camt.053 или camt.054
console-statement-submit = Импортировать
console-statement-summary = Выписка { $statement } ({ $kind }): оплачено { $paid }, возвращено { $returned }, уже учтено { $recorded }, выплат Stripe { $stripe }, не совпало { $unmatched }.
console-statement-again = Уже импортирована раньше; ничего не изменилось. { $summary }
console-column-entry = Запись
console-column-direction = Направление
console-column-amount = Сумма
console-column-booked = Проведено
console-column-unmatched-why = Почему ничего не совпало

## Один пакет
console-back = ← Все пакеты
console-batch-heading = Пакет { $id }
console-batch-total = { $total }, позиций: { $count }
console-hash-label = Хеш содержимого: то, что подписывает утверждение
console-batch-changed = Пакет изменился, пока вы его смотрели: проверьте его снова перед утверждением.
console-counts-heading = Позиции по состоянию
console-count = { $state }: { $count }
console-batch-live = Обновляется каждую секунду, пока выплаты в пути.
console-approve-heading = Утвердить
console-approve-submit = Утвердить этот пакет
console-approve-explained = Вы утверждаете пакет с показанным выше хешем — именно в том виде, как он перечислен ниже.
console-approving = Утверждаем…
console-approved-released = Утверждено. Пакет выпущен: выплаты в пути.
console-approved-more = Утверждено. Нужно ещё утверждений: { $count }.
console-why-not-created = Вы создали этот пакет: утверждают другие казначеи.
console-why-not-approved = Вы уже утвердили этот пакет; он ждёт другого казначея.
console-why-not-role = Пакеты утверждают только казначеи.
console-sepa-heading = Файл SEPA
console-sepa-make = Создать файл SEPA
console-sepa-making = Создаём файл…
console-sepa-made = Файл SEPA #{ $id }: переводов { $count }, { $total }, исполнить { $date }. Его выплаты теперь отправлены.
console-sepa-download = Скачать pain.001.xml
console-sepa-audited = В нём имена и IBAN: каждое скачивание записывается в журнал аудита.
console-sepa-downloaded = Файл SEPA #{ $id } скачан.
console-items-heading = Позиции
console-column-payout = Выплата
console-column-state = Состояние
console-column-actions = Действия
console-not-confirmed = не подтверждён вторым казначеем
console-account-hidden = [счёт скрыт]

## По каждой выплате
console-retry = Повторить
console-cancel = Отменить
console-cancel-confirm = Отменить выплату #{ $id }? Её средства вернутся в кампанию.
console-attempts = { $method }, попыток: { $count }
console-note-placeholder = примечание (необязательно)
console-note-label = Примечание к выплате #{ $id }
console-mark-paid = Отметить оплаченной
console-payout-working = Выплата #{ $id }: выполняется…
console-payout-now = Выплата #{ $id } теперь в состоянии «{ $state }».

## Слова для кодов API
console-state-awaiting_approval = ждёт утверждения
console-state-approved = утверждена
console-state-sending = отправляется
console-state-sent = отправлена
console-state-paid = оплачена
console-state-failed = не удалась
console-state-cancelled = отменена
console-state-reversed = возвращена
console-status-awaiting_approval = ждёт утверждения
console-status-approved = утверждён
console-status-cancelled = отменён
console-method-sepa = SEPA
console-method-stripe_connect = Stripe Connect
console-method-manual = вручную
console-role-admin = администратор
console-role-treasurer = казначей
console-role-coordinator = координатор
console-trigger-daily = ежедневно
console-trigger-api = по запросу
console-trigger-cli = из командной строки
console-trigger-payout = выплата Stripe
console-difference-missing_in_ledger = нет в учётной книге
console-difference-missing_at_stripe = нет в Stripe
console-difference-amount_differs = сумма отличается
console-direction-credit = поступление
console-direction-debit = списание

## Отказы: коды ошибок API, которые может встретить консоль
console-error-network = Не удалось связаться с сервером; попробуйте ещё раз.
console-error-unexpected = На этой странице что-то пошло не так: { $detail }
console-error-other = Отказано (ошибка { $status }, { $code }).
console-error-bad_credentials = Неверная электронная почта или пароль, либо учётная запись заблокирована.
console-error-second_factor_required = Введите 6-значный код из приложения-аутентификатора.
console-error-bad_second_factor = Одноразовый код неверный или уже использован: дождитесь следующего кода.
console-error-account_locked = Слишком много неудачных попыток: учётная запись заблокирована на 15 минут.
console-error-unauthorized = Вы не вошли.
console-error-forbidden = Ваша роль этого не позволяет.
console-error-four_eyes = Один человек не может сделать оба шага: это должен сделать другой казначей.
console-error-payouts_paused = Выплаты остановлены: сначала их должны возобновить два казначея.
console-error-destination_locked = Этот адрес нельзя изменить, пока выплата на него в пути или не удалась: сначала отмените ту выплату.
console-error-destination_not_approved = Адрес не тот, который утвердили казначеи: ничего не выплачено.
console-error-destination_unconfirmed = Один из адресов в этом пакете ещё не подтверждён вторым казначеем.
console-error-insufficient_funds = В кампании не хватает денег на это.
console-error-invalid_statement = Этот файл не является выпиской camt.053 или camt.054, которую может прочитать консоль.
console-error-conflict = Невозможно в текущем состоянии (возможно, что-то изменилось): проверьте снова.
console-error-not_found = Не найдено: возможно, это удалено.
console-error-invalid_request = Сервер отклонил эти значения как неверные.
console-error-bad_request = Сервер не смог прочитать запрос.
console-error-rate_limited = Слишком много запросов: подождите немного и попробуйте снова.
console-error-upstream_unavailable = Stripe недоступен: попробуйте позже.
console-error-sepa_not_configured = Файлы SEPA на этом сервере ещё не настроены.
console-error-people_not_configured = Учётные записи сотрудников на этом сервере ещё не настроены.
console-error-payload_too_large = Файл слишком большой.
console-error-internal = Сбой на сервере; он записан в журнал. Попробуйте позже.
