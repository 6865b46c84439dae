FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Collects into /app/staticfiles with hashed names (the production storage); the settings refuse
# DEBUG=0 without a secret, so a placeholder stands in at build time only.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input
RUN useradd --create-home app && mkdir -p /app/media && chown -R app /app/media
USER app
EXPOSE 8000
# The process lines of each service are in docker-compose.yml (make smoke runs the same ones).
CMD ["gunicorn", "trdtracker.wsgi:application"]
