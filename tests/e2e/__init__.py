"""End-to-end tests: the real shop (gunicorn, nginx, PostgreSQL) started by `shop up`, spoken to over HTTP."""
