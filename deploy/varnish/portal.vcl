vcl 4.1;
# The HTTP cache in front of the portal's gunicorn (Debian's varnish 7). See README, "Deploying":
# public pages are kept for their s-maxage and purged by the portal (portal/purge.py) on every
# change; staff and the admin always pass; nothing is added to or removed from the responses
# but Varnish's own bookkeeping headers; with grace, the last good public pages are served
# while the origin is down.
#
#   varnishd -f /etc/varnish/portal.vcl -a :6081 -p vcl_path=/etc/varnish \
#            -p vcc_allow_inline_c=off
# The backend address comes from the include below (deploy/varnish/backend.vcl, one
# `backend default { ... }` with its probe); PORTAL_VARNISH_URL=http://127.0.0.1:6081 tells the
# portal where to send its purges.

import std;

include "backend.vcl";

# Who may purge: the application servers.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # One spelling of each host, as Django and Wagtail read it: lowercase, no port, no trailing
    # dot. The portal's purges name hosts the same way, so they reach what visitors were sent.
    set req.http.host = std.tolower(regsub(req.http.host, ":[0-9]+$", ""));
    set req.http.host = regsub(req.http.host, "\.$", "");

    # Set below, by this VCL only: "1" a visitor's GET or HEAD, "2" its one retry.
    unset req.http.x-portal-cached;

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        if (req.url ~ "\*$") {
            # A prefix (every figure of a page, a whole site): ban what lies under it.
            ban("obj.http.x-host == " + req.http.host + " && obj.http.x-url ~ ^"
                + regsub(req.url, "\*$", ""));
            return (synth(200, "Banned"));
        }
        return (purge);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Staff: the admin, and every request of a signed-in editor, straight to the origin.
    if (req.url ~ "^/admin/" || req.http.cookie ~ "(^|;\s*)(sessionid|portal_signed_in)=") {
        return (pass);
    }
    # Visitors get no cookie from the portal; any other cookie they send changes nothing.
    unset req.http.cookie;
    unset req.http.authorization;
    # How long past its lifetime a page may be served: briefly while the origin answers (the
    # page is fetched again in the background), long while it does not.
    # A retry after the origin failed (vcl_synth): any copy within its grace will do (req.grace
    # outlives a restart, so it is set again).
    set req.http.x-portal-cached = "1";
    if (req.restarts > 0) {
        set req.http.x-portal-cached = "2";
        set req.grace = 24h;
    } elsif (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }
    return (hash);
}

sub vcl_backend_response {
    # The origin failing while a stale copy exists: keep serving the copy. A background
    # fetch, or a visitor's first try (retried from vcl_synth with the long grace): an
    # error delivered here would replace the copy.
    if (beresp.status >= 500 && (bereq.is_bgfetch || bereq.http.x-portal-cached == "1")) {
        return (abandon);
    }
    # For the bans above.
    set beresp.http.x-host = bereq.http.host;
    set beresp.http.x-url = bereq.url;
    # Only what the portal marks public is kept: pages for anonymous visitors, static files.
    if (beresp.http.cache-control !~ "public" || beresp.http.set-cookie) {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    set beresp.grace = 24h;
    set beresp.keep = 0s;
}

sub vcl_synth {
    # The origin failed while the probe still held it healthy (PostgreSQL just stopped:
    # gunicorn answers 500 for a few seconds before the probe notices) on a visitor's first
    # try (vcl_backend_response abandoned the fetch, so the error replaced no copy): try once
    # more, taking any copy still within its 24 h grace; with none, the retry's fetch delivers
    # the origin's own answer. Never for POSTs or staff (they pass, unmarked).
    if (resp.status == 503 && req.http.x-portal-cached == "1") {
        return (restart);
    }
}

sub vcl_deliver {
    unset resp.http.x-host;
    unset resp.http.x-url;
    unset resp.http.via;
}
