"""The WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
from panel import create_app

app = create_app()
