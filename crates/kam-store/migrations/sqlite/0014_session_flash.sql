-- A one-time message for the page a form redirects to (post/redirect/get): the note, and what is
-- shown only once (a new API token, a one-time password, a revealed identifier and its field).
-- Kept on the server with the session, read once and cleared; never in a cookie or a URL.
alter table web_session add column flash_note text;
alter table web_session add column flash_secret text;
alter table web_session add column flash_field text;
