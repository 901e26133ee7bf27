"""An Ingress names a class that does not exist, or relies on a default there isn't.

Known classes are the IngressClasses in the scanned manifests plus those the
config declares (`ingress-classes`, `default-ingress-class`). An IngressClass
without `metadata.name` (a skeleton, a fragment of a template) is not a known class:
the API server creates no object without a name, and no Ingress can name it, so it
neither switches the rule on nor serves as the default. When some are known, the
rule reports:

- an Ingress whose `spec.ingressClassName` names a class that is not known; a
  near miss such as `ngnix` for `nginx` is named and fixed. The deprecated
  `kubernetes.io/ingress.class` annotation is reported only when its value is such a
  near miss (`Traefk` for `traefik`) and not itself a controller's built-in class
  name (`traefik` beside a `traefik-lb` IngressClass is what Traefik serves when
  its provider watches no particular class);
- an Ingress that names no class while no known class is marked default
  (`ingressclass.kubernetes.io/is-default-class: "true"`): no controller picks it
  up;
- two or more IngressClasses marked default: a finding on each, since the API
  server then refuses every new Ingress that names no class.

Left alone: everything when no class is known (the classes live in the cluster;
declare them in the config to have them checked); class-less Ingresses when a
known class is the default, or when a known controller serves class-less Ingresses
out of the box: Traefik (its Kubernetes Ingress provider processes Ingresses with
no class unless told to watch one) and GKE's built-in controller (it handles every
Ingress without a class); any other value of the deprecated annotation. Controllers
match that annotation against their own class flag (ingress-nginx's
`--ingress-class`, `nginx` by default; the AWS Load Balancer Controller's `alb`;
Istio's mesh `ingressClass`, `istio`; GKE's `gce` and `gce-internal`), with no
IngressClass object involved, so `kubernetes.io/ingress.class: alb` in a repository
that only holds an `nginx` IngressClass is served all the same.

## Why it matters
Every controller watches only the Ingresses of its class. An Ingress whose class
does not exist, or that names none while no default is set, is accepted by the API
server and then ignored by every controller: no error, no event, no address in its
status, and the site is simply not served.

## How to fix
Name an existing class: correct the typo, or set `ingressClassName` to the class
that should serve the Ingress. The fix does that when it can tell which one (a
near miss, the only known class, or the one class of the controller whose
annotations the Ingress carries); with several candidates it guesses none. To let
class-less Ingresses work, mark exactly one IngressClass as the default:
`kubectl annotate ingressclass nginx ingressclass.kubernetes.io/is-default-class=true`.

## Example
Bad:
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: admin
spec:
  ingressClassName: ngnix
  defaultBackend:
    service:
      name: admin
      port:
        number: 80
```
Good:
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: admin
spec:
  ingressClassName: nginx
  defaultBackend:
    service:
      name: admin
      port:
        number: 80
```

## Configuration
- `ingress-classes`: the classes that exist in the cluster (names, or
  `{name, controller, default}`), when their IngressClasses are not in the
  scanned manifests.
- `default-ingress-class`: the class the cluster gives Ingresses that name none.

## Sources
- https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class
- https://kubernetes.io/docs/concepts/services-networking/ingress/#default-ingress-class
- https://kubernetes.io/docs/concepts/services-networking/ingress/#deprecated-annotation
- https://kubernetes.github.io/ingress-nginx/user-guide/multiple-ingress/ (the
  annotation is matched against the controller's `--ingress-class`)
- https://github.com/istio/istio/blob/master/pilot/pkg/config/kube/ingress/conversion.go
  (`shouldProcessIngressWithClass`: the annotation is compared with the mesh's class)
- https://github.com/traefik/traefik/blob/master/pkg/provider/kubernetes/ingress/kubernetes.go (`shouldProcessIngress`)
- https://cloud.google.com/kubernetes-engine/docs/how-to/custom-ingress-controller
- https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ (every
  object has a name, unique for its kind; one made from `generateName` is random)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ..context import Context
from ..edits import insert_after, insert_entries, render, set_scalar, style_of
from ..ingress import (
    CLASS_ANNOTATION,
    DEFAULT_CLASS_ANNOTATION,
    IngressClasses,
    controller_by_annotations,
    ingress_classes,
    is_ingress,
)
from ..manifests import Resource
from ..model import Finding, Fix, Related
from ..yamltree import YMap

ID = "missing-ingress-class"
SEVERITY = "error"
SUMMARY = "Ingress names a class that does not exist, or relies on a default there isn't"

# How close a deprecated-annotation value must be to a known class to be its typo
# (`ngnix`, `Traefk`): other values are matched by a controller's own flag.
TYPO = 0.8


def check(ctx: Context) -> Iterator[Finding]:
    reported: set[str] = set()
    for _, members in ctx.inventory.grouped_by_unit(ctx.inventory.of_kind("IngressClass")):
        for found in _several_defaults(ctx, ingress_classes(ctx.inventory, ctx.config, members[0])):
            if found.fingerprint not in reported:
                reported.add(found.fingerprint)
                yield found
    for ingress in ctx.inventory.of_kind("Ingress"):
        if not is_ingress(ingress):
            continue
        classes = ingress_classes(ctx.inventory, ctx.config, ingress)
        if not classes.known:
            continue
        several_defaults = len({c.name for c in classes.defaults()}) > 1
        declared = classes.declared(ingress)
        if declared is None:
            if (
                classes.default_class()
                or several_defaults
                or classes.classless_server()
                or ctx.inventory.unscanned_holding(ingress, "is-default-class")
            ):
                continue
            yield _classless(ctx, classes, ingress)
        elif (
            declared.name not in classes.known
            and not (declared.by_annotation and _served_by_flag(classes, declared.name))
            and not ctx.inventory.unscanned_holding(ingress, "IngressClass", declared.name)
        ):
            yield _unknown(ctx, classes, ingress, declared.name, declared.field_path)


def _several_defaults(ctx: Context, classes: IngressClasses) -> Iterator[Finding]:
    defaults = [r for r in classes.manifests if r.annotations.get(DEFAULT_CLASS_ANNOTATION, "").lower() == "true"]
    if len({r.name for r in defaults}) < 2:
        return
    for resource in defaults:
        others = [o for o in defaults if o.name != resource.name]
        names = ", ".join(f"`{o.name}` ({o.path})" for o in others)
        message = (
            f"IngressClass `{resource.name}` is marked default, and so is {names}: with more than "
            f"one default the API server refuses every new Ingress that names no class. "
            f'Keep `{DEFAULT_CLASS_ANNOTATION}: "true"` on one IngressClass only.'
        )
        related = [
            Related(
                o.path,
                o.key_line("metadata", "annotations", DEFAULT_CLASS_ANNOTATION),
                f"IngressClass `{o.name}` is marked default too",
            )
            for o in others
        ]
        yield ctx.finding(
            resource,
            ("metadata", "annotations", DEFAULT_CLASS_ANNOTATION),
            message,
            related=related,
            field="metadata.annotations.is-default-class",
        )


def _known_list(classes: IngressClasses) -> str:
    names = sorted(classes.known)
    shown = ", ".join(f"`{n}`" for n in names[:6]) + (", ..." if len(names) > 6 else "")
    return shown


def _served_by_flag(classes: IngressClasses, name: str) -> bool:
    """Whether a controller may serve this value of the deprecated annotation by its
    own class flag: any value but a typo of a known class, and always a controller's
    built-in class name (`traefik` beside a `traefik-lb` IngressClass is what Traefik
    serves when it is told no class)."""
    return _near(classes, name, TYPO) is None or classes.controller_of_class(name) is not None


def _near(classes: IngressClasses, name: str, cutoff: float = 0.6) -> str | None:
    """The known class ``name`` misspells, if any."""
    by_lower = {known.lower(): known for known in classes.known}
    near = by_lower.get(name.lower())
    if near is None:
        matches = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=cutoff)
        near = by_lower[matches[0]] if matches else None
    return near


def _unknown(ctx: Context, classes: IngressClasses, ingress: Resource, name: str, field_path: tuple) -> Finding:
    near = _near(classes, name)
    where = "`ingressClassName`" if field_path[0] == "spec" else f"annotation `{CLASS_ANNOTATION}`"
    message = (
        f"{where} names class `{name}`, which does not exist (known: {_known_list(classes)}): "
        f"no controller will serve this Ingress, and nothing reports it."
    )
    fix = None
    if not near:
        message += " If the cluster does have it, declare it under `ingress-classes` in `.footgun.yml`."
    else:
        message += f" Did you mean `{near}`?"
        mapping = ingress.get(*field_path[:-1])
        edit = set_scalar(ingress.source, mapping, field_path[-1], near)
        if edit:
            fix = Fix(f"Use class `{near}`", (edit,))
    message += _elsewhere(classes) + ctx.caveat(ingress)
    line = ingress.key_line(*field_path)
    return ctx.finding(ingress, field_path, message, fix=fix, lines=(line, line), field="spec.ingressClassName")


def _classless(ctx: Context, classes: IngressClasses, ingress: Resource) -> Finding:
    message = (
        f"No `ingressClassName`, and no known IngressClass is marked default (known: "
        f"{_known_list(classes)}): no controller will serve this Ingress."
    )
    choice, why = _choice(classes, ingress)
    fix = None
    if choice:
        edit = _insert_class(ingress, choice)
        if edit:
            fix = Fix(f"Set `ingressClassName: {choice}`, {why}", (edit,))
    else:
        message += " Name the class that should serve it, or mark one IngressClass as the default."
    message += " If the cluster has a default class, set `default-ingress-class` in `.footgun.yml`."
    message += _elsewhere(classes) + ctx.caveat(ingress)
    span = ingress.span("spec")
    lines = (span.key_line, span.key_line) if span else (ingress.start_line, ingress.start_line)
    return ctx.finding(ingress, ("spec",), message, fix=fix, lines=lines, field="spec.ingressClassName")


def _elsewhere(classes: IngressClasses) -> str:
    if not classes.from_elsewhere:
        return ""
    return (
        " No IngressClass is deployed with this Ingress: the known classes come from elsewhere "
        "in the repository, so the cluster may well have others."
    )


def _choice(classes: IngressClasses, ingress: Resource) -> tuple[str | None, str]:
    """The class to name when the evidence points at exactly one."""
    if len(classes.known) == 1:
        return next(iter(classes.known)), "the only class the cluster has"
    vendor = controller_by_annotations(ingress.annotations)
    if vendor:
        matching = [c.name for c in classes.known.values() if c.controller_id == vendor]
        if len(matching) == 1:
            return matching[0], "the only class of the controller whose annotations the Ingress carries"
    return None, ""


def _insert_class(ingress: Resource, name: str):
    """``ingressClassName`` as the first key of ``spec``."""
    spec, span = ingress.get("spec"), ingress.span("spec")
    if not isinstance(spec, YMap) or span is None or spec.flow or not spec:
        return None
    first = spec.at[next(iter(spec))]
    if first.key_line > span.key_line:
        return insert_after(
            ingress.source, span.key_line, render({"ingressClassName": name}, style_of(ingress.source), first.col)
        )
    return insert_entries(ingress.source, spec, {"ingressClassName": name})
