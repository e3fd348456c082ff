FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DASHBOARD_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY jobs ./jobs
RUN pip install --no-cache-dir .
COPY . .
# Static files are collected at build time and served by whitenoise.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-not-secret-used-for-collectstatic-and-nothing-else python manage.py collectstatic --noinput
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "dashboard.wsgi:application", "--bind", "0.0.0.0:8000"]
