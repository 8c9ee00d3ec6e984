-- A campaign's title and description per language, for the donors' and coordinators' pages:
-- {"be": {"title": "…", "description": "…"}, "de": {…}}. Keys are the pages' languages
-- (be, ru, uk, pl, lt, de, en); the text is checked like the default title and description
-- (zbor-campaigns). A page in a language without an entry shows the default text.
alter table campaigns
    add column translations jsonb not null default '{}'::jsonb
        constraint campaigns_translations_object check (jsonb_typeof(translations) = 'object');
