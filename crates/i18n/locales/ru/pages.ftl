# Русский. Комментарии к сообщениям — в en/pages.ftl.

## The language switcher

language-name = Русский
language-switcher = Язык

## The organisation

org-organised-by = Организатор: { $name }
org-contact = Контакт: { $contact }
org-legal = Правовая информация
org-privacy = Конфиденциальность
stripe-note = Платежи обрабатывает Stripe; { $name } никогда не видит данных вашей карты.

## The give page

give-title = Пожертвовать · { $title }
give-amount = Сумма
give-other-amount = Другая сумма
give-amount-hint = Например, 25 или 25,50
give-anonymous = Пожертвовать анонимно (имя и электронная почта не сохраняются)
give-submit = Перейти к оплате
give-payment-link = Или пожертвуйте любую сумму на странице Stripe
give-closed = Этот сбор закрыт и больше не принимает пожертвований. Спасибо!
give-overflow-notice = Сбор «{ $from }» достиг своей цели – спасибо. Новые пожертвования теперь идут в этот сбор.
give-progress-heading = Ход сбора
give-raised-of-goal = Собрано { $raised } из { $goal }
give-people-funded = Получили помощь: { $funded } из { $total }
give-share-heading = Поделиться страницей
give-share-copy = Скопировать ссылку
give-share-copied = Ссылка скопирована.
give-share-email = Электронная почта
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Поддержите: { $title }
give-error-missing = Пожалуйста, выберите или введите сумму.
give-error-format = Пожалуйста, введите сумму, например 25 или 25,50.
give-error-amount = Stripe не может принять такую сумму: она слишком мала или слишком велика. Пожалуйста, введите сумму, например 25 или 25,50.
give-error-closed = Этот сбор закрыт и больше не принимает пожертвований.
give-error-busy = Сейчас жертвует очень много людей. Пожалуйста, попробуйте снова через минуту.
give-busy-redirect = Сейчас жертвует очень много людей; перенаправляем вас на страницу оплаты…
give-error-generic = Что-то пошло не так. Пожалуйста, попробуйте ещё раз.
give-error-network = Не удалось связаться с сервером. Проверьте подключение и попробуйте ещё раз.
give-frequency = Как часто
give-once = Один раз
give-monthly = Ежемесячно
give-monthly-hint = Ежемесячное пожертвование списывается раз в месяц, пока вы его не остановите. Перед оплатой вы получите ссылку, чтобы остановить его самостоятельно в любое время.
give-email = Электронная почта для квитанции (необязательно)
give-email-hint = Только если вы жертвуете не анонимно. Адрес получит Stripe, который и пришлёт квитанцию; { $name } его не хранит.
give-error-email = Пожалуйста, введите полный адрес электронной почты, например name@example.org, или оставьте поле пустым.
give-monthly-link-heading = Сохраните ссылку для отмены ежемесячного пожертвования
give-monthly-link-body = По этой ссылке вы можете остановить ежемесячное пожертвование в любое время, без учётной записи. Пожалуйста, сохраните её сейчас, например в заметках или в письме самому себе: прислать её вам ещё раз мы не сможем.
give-monthly-link-label = Ваша ссылка для отмены ежемесячного пожертвования
give-monthly-link-copy = Скопировать ссылку
give-monthly-link-copied = Ссылка скопирована. Сохраните её в надёжном месте.

## The thank-you page

thanks-title = Спасибо!
thanks-body = Ваше пожертвование на «{ $title }» войдёт в общую сумму, как только Stripe его подтвердит (банковское списание занимает несколько дней).
thanks-receipt = Номер вашей квитанции: { $reference }
thanks-receipt-hint = Пожалуйста, укажите его, если будете писать нам о пожертвовании.
thanks-see-total = Посмотреть общую сумму
thanks-back = Вернуться к сбору
thanks-monthly-link-body = Вот ещё раз ваша ссылка для отмены ежемесячного пожертвования. Пожалуйста, сохраните её: прислать её вам ещё раз мы не сможем.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Ваше ежемесячное пожертвование
monthly-cancel-intro = Здесь вы можете сразу остановить ежемесячное пожертвование или управлять им на странице Stripe.
monthly-cancel-stop = Остановить моё ежемесячное пожертвование
monthly-cancel-manage = Управлять в Stripe
monthly-cancel-working = Минутку…
monthly-cancel-done = Ваше ежемесячное пожертвование остановлено. Больше ничего списываться не будет. Спасибо за вашу поддержку!
monthly-cancel-already = Это ежемесячное пожертвование уже остановлено. Больше ничего списываться не будет.
monthly-cancel-no-token = Для этой страницы нужна ваша личная ссылка для отмены ежемесячного пожертвования. Пожалуйста, откройте полностью ссылку, которую вы сохранили, когда начинали жертвовать.
monthly-cancel-not-found = Эта ссылка не относится ни к одному ежемесячному пожертвованию. Проверьте, полностью ли вы открыли ссылку. Если вы заплатили только что, попробуйте снова через минуту.
monthly-cancel-busy = Сейчас слишком много запросов. Пожалуйста, попробуйте снова через минуту.

## The coordinators' dashboard

dashboard-title = { $title } · сумма в реальном времени
dashboard-connecting = подключение…
dashboard-live = в реальном времени
dashboard-reconnecting = переподключение…
dashboard-raised = Собрано
dashboard-goal = Цель
dashboard-people-funded = Получили помощь
dashboard-funded-of = { $funded } из { $total }
dashboard-donations = Пожертвования
dashboard-progress = { $percent } от цели
dashboard-refunded = Возвращено
dashboard-fees = Комиссии
dashboard-net = Чистая сумма
dashboard-updated = Обновлено
dashboard-funded-explained = Число получивших помощь считается по деньгам, оставшимся после комиссий Stripe и возвратов, делённым на сумму для одного человека.
dashboard-give-link = Открыть страницу пожертвований
dashboard-chart-heading = Пожертвования за последние 3 часа
dashboard-chart-label = Столбчатая диаграмма числа пожертвований за последние 3 часа
dashboard-chart-y = Пожертвования
dashboard-chart-x = Время
dashboard-chart-bar = { $time }: { $amount } (пожертвований: { $count })
dashboard-chart-empty = За последние 3 часа пожертвований не было.
dashboard-recent-heading = Последние пожертвования
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } и больше
dashboard-recent-count = × { $count }
dashboard-recent-empty = Пожертвований пока нет.

## Not found, and the server's own address (/)

notfound-title = Страница не найдена
notfound-body = По этому адресу нет сбора. Пожалуйста, проверьте ссылку, которую вы получили.
notfound-home = Сайт организации: { $name }
notfound-root-title = Пожертвования: { $name }
notfound-root-body = Этот сервер принимает пожертвования; организатор — { $name }. У каждого сбора своя страница: пожалуйста, воспользуйтесь ссылкой, которой поделились организаторы.
