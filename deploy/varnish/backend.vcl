# The portal's gunicorn, checked every few seconds (deploy/varnish/portal.vcl includes this).
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .probe = {
        # As the TLS terminator sends it: one of ALLOWED_HOSTS, and https (production
        # redirects plain http, and a 301 or a 400 would mark gunicorn down for good).
        .request =
            "GET /robots.txt HTTP/1.1"
            "Host: portal.example.org"
            "X-Forwarded-Proto: https"
            "Connection: close";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
    }
}
