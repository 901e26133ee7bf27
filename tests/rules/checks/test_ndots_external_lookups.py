"""ndots-external-lookups: what the case marks cannot say (which strings name an
external host, the wording, the exact fix)."""

from __future__ import annotations

import pytest

from footgun.rules.checks.ndots_external_lookups import _host_of, _hosts_in, _is_external, strip_shell_comments
from footgun.rules.config import Config
from tests.helpers import apply_fix, of_rule, scan_text

RULE = "ndots-external-lookups"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels:
      app: billing
  template:
    metadata:
      labels:
        app: billing
    spec:
      containers:
        - name: billing
          image: billing:3
          env:
            - name: PAYMENTS_API
              value: https://api.stripe.com/v1
"""


def external(text: str, flag: str | None = None) -> list[str]:
    return [h for h in _hosts_in(text, flag) if _is_external(h)]


@pytest.mark.parametrize(
    "text, hosts",
    [
        ("https://api.stripe.com/v1", ["api.stripe.com"]),
        ("postgres://app:secret@db.example.com:5432/app", ["db.example.com"]),
        ("jdbc:mysql://mysql.example.net:3306/shop?useSSL=true", ["mysql.example.net"]),
        ("smtp.sendgrid.net", ["smtp.sendgrid.net"]),
        ("smtp.sendgrid.net:587", ["smtp.sendgrid.net"]),
        ("curl -fsS https://hooks.slack.com/x && echo done", ["hooks.slack.com"]),
        ("--upstream=api.partner.co.uk:443", ["api.partner.co.uk"]),
        ("-Dhttp.proxyHost=proxy.example.com", ["proxy.example.com"]),
        ("a.example.com,b.example.org", ["a.example.com", "b.example.org"]),
        ("http://metadata.google.internal/computeMetadata/v1", ["metadata.google.internal"]),
        ("stripe.com", ["stripe.com"]),
        # not hosts, or not lookups the pod makes under the search list
        ("config.yaml", []),
        ("app.py", []),
        ("run.sh", []),
        ("README.md", []),
        ("main.tf", []),
        ("com.example.Main", []),
        ("org.apache.kafka.Main", []),
        ("io.k8s.api", []),
        ("1.2.3", []),
        ("v1.2.3", []),
        ("10.0.0.1:8080", []),
        ("http://[2001:db8::1]:80/", []),
        ("ghcr.io/example/app:1.2", []),
        ("docker.io", ["docker.io"]),
        ("app.kubernetes.io/name=web", []),
        ("ingresses.networking.k8s.io", []),
        ("https://api.example.com./v1", []),
        ("api.example.com.", []),
        ("ops@example.com", []),
        ("*.example.com", []),
        ("web.shop.svc", []),
        ("web.shop.svc.cluster.local", []),
        ("http://localhost:8080", []),
        ("api.dev", []),
        ("a.b.c.d.e.example.com", []),
        ("API.Example.COM", []),
        ("https://$(HOST).example.com", []),
        ("--web.external-url=https://prom.example.com", []),
        ("PUBLIC_URL=https://shop.example.com", []),
        ("-Dhttp.nonProxyHosts=internal.example.com", []),
        ("KC_HOSTNAME=auth.example.com", []),
        ("--hostname=auth.example.com", []),
        ("DB_HOSTNAME=db.example.com", ["db.example.com"]),
        ("EMAIL_HOST=smtp.gmail.com", ["smtp.gmail.com"]),
        ("DJANGO_ALLOWED_HOSTS=shop.example.com", []),
        ("SENTRY_DSN=https://key@o1.ingest.sentry.io/4", ["o1.ingest.sentry.io"]),
        ("http://otel-collector.observability:4317", []),
    ],
)
def test_which_strings_name_external_hosts(text, hosts):
    assert external(text) == hosts


def test_the_option_a_value_belongs_to_counts():
    assert external("https://shop.example.com", flag="--public-url") == []
    assert external("https://api.example.com", flag="--upstream") == ["api.example.com"]


def test_service_dot_namespace_is_internal_when_the_namespace_is_known():
    assert _host_of("orders.tv") == "orders.tv"
    assert _is_external("orders.tv")
    assert not _is_external("orders.tv", {"tv"})


def test_finding_names_the_host_the_alternatives_and_fixes_the_pod_spec():
    result = scan_text(DEPLOYMENT, path="billing.yaml")
    [found] = of_rule(result, RULE)
    assert found.line == 19 and found.severity == "info"
    assert found.message.startswith(
        "`api.stripe.com` (env PAYMENTS_API of container billing) is resolved under the default ndots:5"
    )
    assert "`api.stripe.com.`" in found.message and "autopath" in found.message
    assert 'Set `ndots: "2"`' in found.message
    assert found.fix.description == 'Set `ndots: "2"` in the pod\'s dnsConfig'
    fixed = apply_fix({"billing.yaml": DEPLOYMENT}, found.fix)["billing.yaml"]
    assert fixed == DEPLOYMENT + (
        '      dnsConfig:\n        options:\n          - name: ndots\n            value: "2"\n'
    )


def test_configured_ndots_and_a_name_it_does_not_cover():
    text = DEPLOYMENT.replace("https://api.stripe.com/v1", "https://stripe.com/v1")
    [found] = of_rule(scan_text(text, Config(ndots=3)), RULE)
    assert 'value: "3"' in found.fix.edits[0].replacement
    assert "`stripe.com` has 1 dot, fewer than 3: for it, only the trailing dot or autopath helps" in found.message


def test_crlf_files_keep_their_line_endings():
    text = DEPLOYMENT.replace("\n", "\r\n")
    [found] = of_rule(scan_text(text, path="billing.yaml"), RULE)
    fixed = apply_fix({"billing.yaml": text}, found.fix)["billing.yaml"]
    assert fixed.endswith('          - name: ndots\r\n            value: "2"\r\n') and "\n" not in fixed.replace(
        "\r\n", ""
    )


@pytest.mark.parametrize(
    "pod_spec_lines, fires",
    [
        ("", True),
        ("      dnsPolicy: ClusterFirst\n", True),
        ("      hostNetwork: true\n      dnsPolicy: ClusterFirstWithHostNet\n", True),
        ("      hostNetwork: true\n", False),  # ClusterFirst on the host network falls back to Default
        ("      dnsPolicy: Default\n", False),
        ("      dnsPolicy: None\n      dnsConfig:\n        nameservers: [1.1.1.1]\n", False),
        ('      dnsConfig:\n        options:\n          - name: ndots\n            value: "5"\n', False),
    ],
)
def test_dns_policies(pod_spec_lines, fires):
    text = DEPLOYMENT.replace("    spec:\n      containers:", "    spec:\n" + pod_spec_lines + "      containers:")
    assert bool(of_rule(scan_text(text), RULE)) is fires


def test_the_first_name_by_line_wins_and_others_are_counted():
    text = DEPLOYMENT.replace(
        "      containers:\n",
        "      initContainers:\n        - name: init\n"
        '          image: busybox\n          args: ["wget", "https://downloads.example.org/x"]\n'
        "      containers:\n",
    )
    [found] = of_rule(scan_text(text), RULE)
    assert found.message.startswith("`downloads.example.org` (args of container init; 1 other external name too)")
    assert found.field == "spec.template.spec.dnsConfig.options.ndots"


@pytest.mark.parametrize(
    "script, kept, dropped",
    [
        ("curl https://api.example.com  # see https://docs.example.org", "api.example.com", "docs.example.org"),
        ("# https://github.com/x/y\ncurl https://api.example.com", "api.example.com", "github.com"),
        ("echo '# https://a.example.com' ; x=1 #https://b.example.com", "a.example.com", "b.example.com"),
        ('echo "it\'s # https://a.example.com"', "a.example.com", None),
        ("curl https://a.example.com/#frag", "a.example.com/#frag", None),
    ],
)
def test_shell_comments_are_blanked_outside_quotes(script, kept, dropped):
    stripped = strip_shell_comments(script)
    assert kept in stripped
    assert dropped is None or dropped not in stripped
    assert stripped.count("\n") == script.count("\n")
