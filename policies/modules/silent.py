#!/usr/bin/env python3
"""Regenerates policies/modules/silent.hcl: the Bicep registry modules
(avm/res/..., avm/ptn/...) a call of which kmsguard does not report, because
no released version of the module deploys anything kmsguard judges.

Why derived: a hand-written list covers a dozen modules and every other call
of the ~400 AVM modules (deployment scripts, web apps, search services, role
assignments, ...) is a KG901 note that tells the reader nothing. Reading the
modules' public sources lists them all, and says why each one is listed.

Why conservative: a silent module is never looked at again, so a module that
does deploy a route table, an NSG or a NIC behind it would hide a real
finding. A module is listed only when every released version (every tag
`PATH/X.Y.Z`) and the current source were read and none of its .bicep files
(its folder with child-module subfolders, test folders excepted), nor any
file or registry module they call (`br/public:` or
`br:mcr.microsoft.com/bicep/`, at the version called, transitively),
declares a resource of a type in NETWORKING (an `existing` one deploys
nothing; its nested children count), or a
`Microsoft.Resources/deployments` whose template is not the empty telemetry
one; JSON templates (`module x 'x.json'`, `loadJsonContent`) are read for
their resource types. Anything not read (a linked template, a template spec, a private
registry, a file or tag that is not there, unbalanced text) makes the module
not silent.

The source is the git repository of Azure/bicep-registry-modules (bare or
not); nothing is downloaded here:

    git clone --bare https://github.com/Azure/bicep-registry-modules brm.git
    python3 policies/modules/silent.py --bicep brm.git > policies/modules/silent.hcl

Why a module is not silent is written to stderr with --why. Only the
standard library is used.
"""

import argparse
import json
import posixpath
import re
import subprocess
import sys

from generate import VERSION, hcl_string, key

# Resource types (and, with their children, types below them) that kmsguard
# models or whose networking it judges: route tables and routes, NSGs and
# their rules (also on NICs), virtual networks with subnets and peerings,
# firewalls and their policies, gateways and connections, and the Virtual
# WAN routing that steers traffic like a route table does.
NETWORKING = [
    "microsoft.network/routetables",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/virtualnetworks",
    "microsoft.network/azurefirewalls",
    "microsoft.network/firewallpolicies",
    "microsoft.network/virtualnetworkgateways",
    "microsoft.network/localnetworkgateways",
    "microsoft.network/connections",
    "microsoft.network/networkinterfaces",
    "microsoft.network/virtualhubs",
    "microsoft.network/virtualwans",
    "microsoft.network/vpngateways",
    "microsoft.network/expressroutegateways",
    # Not in the brief's list of what kmsguard reads, but networking it would
    # have to judge: a scale set's NIC configurations carry NSGs like NICs,
    # and a network manager's security admin rules override NSG rules and its
    # routing configurations write route tables.
    "microsoft.compute/virtualmachinescalesets",
    "microsoft.network/networkmanagers",
]
DEPLOYMENTS = "microsoft.resources/deployments"
REGISTRY = re.compile(r"^(?:br/public:|br:mcr\.microsoft\.com/bicep/)(avm/[a-z0-9/-]+):([^:']+)$", re.I)
DECLARATION = re.compile(r"\b(resource|module)\s+\w+\s+'([^']*)'")


class Repo:
    """Reads blobs and trees of one git directory through one `cat-file --batch`."""

    def __init__(self, path):
        self.path = path
        self.cat = subprocess.Popen(["git", "--git-dir", path, "cat-file", "--batch"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.trees = {}

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", self.path, *args], check=True,
                              capture_output=True, text=True).stdout

    def read(self, rev, path):
        self.cat.stdin.write(f"{rev}:{path}\n".encode())
        self.cat.stdin.flush()
        header = self.cat.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":
            return None
        size = int(header[2])
        data = self.cat.stdout.read(size + 1)[:size]
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None

    def files(self, rev, folder):
        k = (rev, folder)
        if k not in self.trees:
            try:
                out = self.git("ls-tree", "-r", "--name-only", rev, "--", folder + "/")
            except subprocess.CalledProcessError:
                out = ""
            self.trees[k] = out.splitlines()
        return self.trees[k]


def declarations(text):
    """[(keyword, type or path, body)] of each `resource`/`module` that
    deploys something (not `existing`), with nested resources' types made
    absolute; None when the text does not balance."""
    out, stack = [], []  # stack: (depth at which the declaration started, absolute type)
    depth, i, n = 0, 0, len(text)
    modes = []  # string state: "'" in a string, "${" in an interpolation
    pending = {m.start(): m for m in DECLARATION.finditer(text)}
    while i < n:
        c = text[i]
        if modes and modes[-1] == "'":
            if text.startswith("\\", i):
                i += 2
                continue
            if text.startswith("${", i):
                modes.append("${")
                i += 2
                continue
            if c == "'":
                modes.pop()
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                return None
            i = j + 2
            continue
        if text.startswith("'''", i):
            j = text.find("'''", i + 3)
            if j < 0:
                return None
            i = j + 3
            continue
        if c == "'":
            modes.append("'")
            i += 1
            continue
        if modes and modes[-1] == "${" and c == "}":
            modes.pop()
            i += 1
            continue
        if i in pending and not modes:
            m = pending[i]
            kind, ty = m.group(1), m.group(2)
            if kind == "resource":
                t = ty.split("@", 1)[0].lower()
                if "/" not in t.split("/", 1)[0] and "." not in t.split("/", 1)[0]:
                    # A nested resource: its type is relative to its parent's.
                    t = (stack[-1][1] + "/" + t) if stack else "?/" + t
                stack.append((depth, t, m.start()))
            else:
                stack.append((depth, None, m.start()))
            # An `existing` resource deploys nothing; its nested children
            # are declarations of their own, typed below it.
            existing = text[m.end():].lstrip().startswith("existing")
            out.append([kind, t if kind == "resource" else ty, m.start(), None, existing])
            i = m.end()
            continue
        if c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
            if depth < 0:
                return None
            if c in "}]":
                while stack and stack[-1][0] == depth:
                    _, _, start = stack.pop()
                    for d in out:
                        if d[2] == start:
                            d[3] = text[start:i + 1]
        i += 1
    if modes or depth:
        return None
    return [(k, t, body or "") for k, t, _, body, existing in out if not existing]


def networking(ty):
    return any(ty == t or ty.startswith(t + "/") for t in NETWORKING)


def inline_template(body):
    """Why an inline template (`template: { … }`) may deploy something kmsguard
    judges, or None. Its `type:` values must all be literal: those naming a
    resource type (with a `/`) must not be networking or a deployment; the
    others type parameters and outputs (`'String'`)."""
    start = body.find("template:")
    for value in re.findall(r"\btype:\s*([^\s,}]+)", body[start:]):
        if not (value.startswith("'") and value.endswith("'")):
            return f"an inline template with the resource type {value}"
        ty = value.strip("'").split("@", 1)[0].lower()
        if networking(ty) or ty == DEPLOYMENTS:
            return f"an inline template that deploys {ty}"
    return None


def json_resources(node):
    """Every resource type an ARM template (or a nested deployment's inline
    template) declares; a type written as an expression is returned as is."""
    resources = node.get("resources", []) if isinstance(node, dict) else []
    items = resources.values() if isinstance(resources, dict) else resources
    for r in items if isinstance(items, (list, type({}.values()))) else []:
        if not isinstance(r, dict):
            yield "?"
            continue
        ty = r.get("type")
        yield ty.lower() if isinstance(ty, str) else "?"
        yield from json_resources(r)
        props = r.get("properties")
        if isinstance(props, dict):
            if "templateLink" in props:
                yield "?templateLink"
            if isinstance(props.get("template"), dict):
                yield from json_resources(props["template"])


def json_template(text):
    """Why an ARM template may deploy something kmsguard judges, or None."""
    try:
        doc = json.loads(text)
    except ValueError:
        return "a JSON template that does not parse"
    if not isinstance(doc, dict):
        return "a JSON file that is not a template"
    for ty in json_resources(doc):
        if ty.startswith("?") or ty.startswith("["):
            return f"a JSON template with the resource type {ty.lstrip('?')}"
        if networking(ty):
            return f"a JSON template that declares {ty}"
    return None


class Scan:
    def __init__(self, repo):
        self.repo = repo
        self.memo = {}
        self.tags = {}
        for line in repo.git("for-each-ref", "--format=%(refname:short)", "refs/tags").splitlines():
            path, _, v = line.rpartition("/")
            if path.startswith(("avm/res/", "avm/ptn/")) and VERSION.match(v):
                self.tags.setdefault(path, []).append(v)

    def module(self, rev, folder):
        """None when the module at `rev` deploys nothing kmsguard judges, else why it may."""
        k = (rev, folder)
        if k in self.memo:
            return self.memo[k]
        self.memo[k] = None  # a cycle adds nothing the first visit does not see
        files = [f for f in self.repo.files(rev, folder)
                 if f.endswith(".bicep") and "/tests/" not in "/" + f[len(folder):]]
        if not files:
            why = f"{folder} has no .bicep file at {rev}"
        else:
            why = None
            seen = set(files)
            queue = list(files)
            while queue and not why:
                why = self.file(rev, queue.pop(0), seen, queue)
        self.memo[k] = why
        return why

    def file(self, rev, path, seen, queue):
        text = self.repo.read(rev, path)
        if text is None:
            return f"{path} is not readable at {rev}"
        decls = declarations(text)
        if decls is None:
            return f"{path} at {rev} does not balance"
        for kind, ty, body in decls:
            if kind == "resource":
                if ty.startswith("?/"):
                    return f"{path} declares a nested resource {ty[2:]} outside a parent"
                if networking(ty):
                    return f"{path} declares {ty}"
                if ty == DEPLOYMENTS:
                    why = self.deployment(rev, path, body)
                    if why:
                        return f"{path} declares a deployment of {why}"
                continue
            m = REGISTRY.match(ty)
            if m:
                called, v = m.group(1).lower(), m.group(2)
                if v not in self.tags.get(called, []):
                    return f"{path} calls {ty}, which is not a released version"
                why = self.module(f"{called}/{v}", called)
                if why:
                    return f"{path} calls {ty}: {why}"
            elif ty.endswith(".json") and ":" not in ty:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), ty))
                text = self.repo.read(rev, target)
                why = "a file that is not there" if text is None else json_template(text)
                if why:
                    return f"{path} calls {ty}: {why}"
            elif ty.endswith(".bicep") and ":" not in ty:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), ty))
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
            else:
                return f"{path} calls {ty}, which is not read"
        return None

    def deployment(self, rev, path, body):
        """Why a `Microsoft.Resources/deployments` may deploy something kmsguard
        judges: a linked template, one loaded from a file that is not a
        template of harmless resources, or an inline one that is not."""
        flat = re.sub(r"\s+", "", body)
        if "templateLink" in flat or "template:" not in flat:
            return "a template kmsguard does not read"
        loads = re.findall(r"template:(\w+)\(", flat)
        if loads:
            m = re.fullmatch(r".*template:loadJsonContent\('([^']+)'\).*", flat, re.S)
            if loads != ["loadJsonContent"] or not m:
                return "a template kmsguard does not read"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), m.group(1)))
            text = self.repo.read(rev, target)
            return "a file that is not there" if text is None else json_template(text)
        return inline_template(body)

    def silent(self, path, why_out):
        revs = [f"{path}/{v}" for v in sorted(self.tags[path], key=key)] + ["HEAD"]
        for rev in revs:
            if rev == "HEAD" and not self.repo.files("HEAD", path):
                continue  # removed since its last release
            why = self.module(rev, path)
            if why:
                why_out.append(f"{path}: {why}")
                return False
        return True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bicep", required=True, help="git directory of Azure/bicep-registry-modules")
    p.add_argument("--why", action="store_true", help="write why each other module is not silent to stderr")
    args = p.parse_args()
    scan = Scan(Repo(args.bicep))
    whys, silent = [], []
    for path in sorted(scan.tags):
        if scan.silent(path, whys):
            silent.append(path)
    if args.why:
        print("\n".join(whys), file=sys.stderr)
    head = scan.repo.git("rev-parse", "HEAD").strip()
    print("# Generated by policies/modules/silent.py from Azure/bicep-registry-modules")
    print(f"# at {head}; do not edit. Bicep registry modules none of whose released")
    print("# versions declares a resource kmsguard judges (see the script's docstring).")
    print()
    print("silent_bicep = [")
    for path in silent:
        print(f"  {hcl_string(path)},")
    print("]")


if __name__ == "__main__":
    sys.exit(main())
