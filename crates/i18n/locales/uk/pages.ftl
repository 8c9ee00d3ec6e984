# Українська. Коментарі до повідомлень — у en/pages.ftl.

## The language switcher

language-name = Українська
language-switcher = Мова

## The organisation

org-organised-by = Організатор: { $name }
org-contact = Контакт: { $contact }
org-legal = Правова інформація
org-privacy = Конфіденційність
stripe-note = Платежі обробляє Stripe; { $name } ніколи не бачить даних вашої картки.

## The give page

give-title = Пожертвувати · { $title }
give-amount = Сума
give-other-amount = Інша сума
give-amount-hint = Наприклад, 25 або 25,50
give-anonymous = Пожертвувати анонімно (ім’я та електронна пошта не зберігаються)
give-submit = Перейти до оплати
give-payment-link = Або пожертвуйте будь-яку суму на сторінці Stripe
give-closed = Цей збір закрито, і він більше не приймає пожертв. Дякуємо!
give-overflow-notice = Збір «{ $from }» досяг своєї мети – дякуємо. Нові внески тепер надходять до цього збору.
give-progress-heading = Перебіг збору
give-raised-of-goal = Зібрано { $raised } із { $goal }
give-people-funded = Отримали допомогу: { $funded } із { $total }
give-share-heading = Поділитися сторінкою
give-share-copy = Скопіювати посилання
give-share-copied = Посилання скопійовано.
give-share-email = Електронна пошта
give-share-telegram = Telegram
give-share-whatsapp = WhatsApp
give-share-text = Підтримайте: { $title }
give-error-missing = Будь ласка, оберіть або введіть суму.
give-error-format = Будь ласка, введіть суму, наприклад 25 або 25,50.
give-error-amount = Stripe не може прийняти таку суму: вона замала або завелика. Будь ласка, введіть суму, наприклад 25 або 25,50.
give-error-closed = Цей збір закрито, і він більше не приймає пожертв.
give-error-busy = Зараз жертвує дуже багато людей. Будь ласка, спробуйте ще раз за хвилину.
give-busy-redirect = Зараз жертвує дуже багато людей; переспрямовуємо вас на сторінку оплати…
give-error-generic = Щось пішло не так. Будь ласка, спробуйте ще раз.
give-error-network = Не вдалося зв’язатися із сервером. Перевірте з’єднання та спробуйте ще раз.
give-frequency = Як часто
give-once = Один раз
give-monthly = Щомісяця
give-monthly-hint = Щомісячна пожертва списується раз на місяць, доки ви її не зупините. Перед оплатою ви отримаєте посилання, щоб самостійно зупинити її будь-коли.
give-email = Електронна пошта для квитанції (необов’язково)
give-email-hint = Лише якщо ви жертвуєте не анонімно. Адресу отримає Stripe, який і надішле квитанцію; { $name } її не зберігає.
give-error-email = Будь ласка, введіть повну адресу електронної пошти, наприклад name@example.org, або залиште поле порожнім.
give-monthly-link-heading = Збережіть посилання, щоб зупинити щомісячну пожертву
give-monthly-link-body = За цим посиланням ви можете зупинити щомісячну пожертву будь-коли, без облікового запису. Будь ласка, збережіть його зараз, наприклад у нотатках або в листі самому собі: надіслати його вам ще раз ми не зможемо.
give-monthly-link-label = Ваше посилання, щоб зупинити щомісячну пожертву
give-monthly-link-copy = Скопіювати посилання
give-monthly-link-copied = Посилання скопійовано. Збережіть його в надійному місці.

## The thank-you page

thanks-title = Дякуємо!
thanks-body = Ваша пожертва на «{ $title }» увійде до загальної суми, щойно Stripe її підтвердить (банківське списання триває кілька днів).
thanks-receipt = Номер вашої квитанції: { $reference }
thanks-receipt-hint = Будь ласка, вкажіть його, якщо писатимете нам про пожертву.
thanks-see-total = Переглянути загальну суму
thanks-back = Повернутися до збору
thanks-monthly-link-body = Ось ще раз ваше посилання, щоб зупинити щомісячну пожертву. Будь ласка, збережіть його: надіслати його вам ще раз ми не зможемо.

## The monthly donor's cancel page (/monthly/cancel)

monthly-cancel-title = Ваша щомісячна пожертва
monthly-cancel-intro = Тут ви можете одразу зупинити щомісячну пожертву або керувати нею на сторінці Stripe.
monthly-cancel-stop = Зупинити мою щомісячну пожертву
monthly-cancel-manage = Керувати в Stripe
monthly-cancel-working = Хвилинку…
monthly-cancel-done = Вашу щомісячну пожертву зупинено. Більше нічого не списуватиметься. Дякуємо за вашу підтримку!
monthly-cancel-already = Цю щомісячну пожертву вже зупинено. Більше нічого не списуватиметься.
monthly-cancel-no-token = Для цієї сторінки потрібне ваше особисте посилання, щоб зупинити щомісячну пожертву. Будь ласка, відкрийте повністю посилання, яке ви зберегли, коли почали жертвувати.
monthly-cancel-not-found = Це посилання не належить до жодної щомісячної пожертви. Перевірте, чи відкрили ви посилання повністю. Якщо ви заплатили щойно, спробуйте ще раз за хвилину.
monthly-cancel-busy = Зараз забагато запитів. Будь ласка, спробуйте ще раз за хвилину.

## The coordinators' dashboard

dashboard-title = { $title } · сума в реальному часі
dashboard-connecting = з’єднання…
dashboard-live = у реальному часі
dashboard-reconnecting = повторне з’єднання…
dashboard-raised = Зібрано
dashboard-goal = Мета
dashboard-people-funded = Отримали допомогу
dashboard-funded-of = { $funded } із { $total }
dashboard-donations = Пожертви
dashboard-progress = { $percent } від мети
dashboard-refunded = Повернено
dashboard-fees = Комісії
dashboard-net = Чиста сума
dashboard-updated = Оновлено
dashboard-funded-explained = Кількість людей, які отримали допомогу, рахується з грошей, що залишилися після комісій Stripe і повернень, поділених на суму для однієї людини.
dashboard-give-link = Відкрити сторінку пожертв
dashboard-chart-heading = Пожертви за останні 3 години
dashboard-chart-label = Стовпчикова діаграма кількості пожертв за останні 3 години
dashboard-chart-y = Пожертви
dashboard-chart-x = Час
dashboard-chart-bar = { $time }: { $amount } (пожертв: { $count })
dashboard-chart-empty = За останні 3 години пожертв не було.
dashboard-recent-heading = Останні пожертви
dashboard-recent-band = { $from }–{ $to }
dashboard-recent-open-band = { $from } і більше
dashboard-recent-count = × { $count }
dashboard-recent-empty = Пожертв поки немає.

## Not found, and the server's own address (/)

notfound-title = Сторінку не знайдено
notfound-body = За цією адресою немає збору. Будь ласка, перевірте посилання, яке ви отримали.
notfound-home = Сайт організації: { $name }
notfound-root-title = Пожертви: { $name }
notfound-root-body = Цей сервер приймає пожертви; організатор — { $name }. Кожен збір має власну сторінку: будь ласка, скористайтеся посиланням, яким поділилися організатори.
