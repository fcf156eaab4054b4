#!/usr/bin/env python3
"""Regenerates policies/modules/versions.hcl: the released versions of the
Azure Verified Modules kmsguard reads without downloading them, and each
version's interface (every input name with a short hash of its declared type).

kmsguard maps a module call's inputs onto its model with the hand-written
mapping in policies/modules/avm.hcl; this file is what that mapping was
checked against (the tests in src/ingest/registry/tests.rs fail when a version
declares an input the mapping neither reads nor ignores), and what an
unknown version is compared with at run time.

The inputs are the modules' public sources, as git repositories (bare or
not); nothing is downloaded here. Fetch them first, e.g.

    git clone --bare https://github.com/Azure/bicep-registry-modules brm.git
    git clone --bare https://github.com/Azure/terraform-azurerm-avm-res-network-routetable rt.git
    ...
    python3 policies/modules/generate.py \
        --bicep brm.git \
        --terraform Azure/avm-res-network-routetable/azurerm=rt.git \
        --terraform Azure/avm-res-network-networksecuritygroup/azurerm=nsg.git \
        --terraform Azure/avm-res-network-virtualnetwork/azurerm=vnet.git \
        --terraform Azure/avm-res-network-virtualnetwork/azurerm//modules/subnet=vnet.git \
        --terraform Azure/avm-res-network-virtualnetwork/azurerm//modules/peering=vnet.git \
        --terraform Azure/avm-ptn-hubnetworking/azurerm=hubnetworking.git \
        --terraform Azure/avm-res-network-azurefirewall/azurerm=fw.git \
        --terraform Azure/avm-res-network-firewallpolicy/azurerm=fwp.git \
        --terraform Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups=fwp.git \
        --terraform Azure/avm-ptn-vnetgateway/azurerm=vgw.git \
        --terraform Azure/avm-res-network-virtualnetworkgateway/azapi=vgw-azapi.git \
        > policies/modules/versions.hcl

A source with `//modules/NAME` is a submodule: its inputs are read from that
directory of the repository, at the repository's tags. A source is
NAMESPACE/NAME/PROVIDER, and its repository terraform-PROVIDER-NAME (the
azapi-based modules are terraform-azapi-…). A module whose repository has no
release tag is listed with no versions: avm.hcl cannot map it until one is
published (the tests require every mapped module to have known versions).

Only the standard library is used.
"""

import argparse
import hashlib
import re
import subprocess
import sys

# The Bicep modules whose interfaces are recorded: the ones avm.hcl maps.
BICEP_MODULES = [
    "avm/res/network/route-table",
    "avm/res/network/network-security-group",
    "avm/res/network/virtual-network",
    # One subnet of a network named by name (virtualNetworkName), published
    # as its own registry module.
    "avm/res/network/virtual-network/subnet",
    # A pattern over several resources (hubs: virtual networks, subnets,
    # route tables, firewalls, peerings); kmsguard maps it in code (see
    # src/ingest/registry/pattern.rs), checked against these interfaces.
    "avm/ptn/network/hub-networking",
    # Azure Firewall, its policy and the virtual network gateway (KG301, KG104).
    "avm/res/network/azure-firewall",
    "avm/res/network/firewall-policy",
    "avm/res/network/virtual-network-gateway",
]

VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
# Tags that name a version with a typo (the firewall policy's "v.0.3.3" was
# published next to "v0.3.3"); read as that version when no tag spells it right.
SLOPPY = re.compile(r"^v\.(\d+\.\d+\.\d+)$")


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def tags(repo):
    """(tag, date) of every tag, with the date it was made."""
    out = git(repo, "for-each-ref", "--format=%(refname:short)\t%(creatordate:short)", "refs/tags")
    return [tuple(line.split("\t", 1)) for line in out.splitlines() if "\t" in line]


def show(repo, tag, path):
    try:
        return git(repo, "show", f"{tag}:{path}")
    except subprocess.CalledProcessError:
        return None


def key(v):
    m = VERSION.match(v)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def strip_comments(text):
    """Removes // and # line comments and /* */ blocks outside strings."""
    out, i, n = [], 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
        elif c in "'\"":
            quote = c
            out.append(c)
            i += 1
        elif text.startswith("//", i) or c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def balanced(text, start):
    """The end of the expression starting at `start`: a newline or `=` at bracket depth 0."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c in "\n=":
            return i
        i += 1
    return i


def drop_decorators(text):
    """Removes Bicep decorators (`@description('…')`, with their argument)."""
    out, i = [], 0
    while i < len(text):
        m = re.compile(r"@\w+(\.\w+)*\(").match(text, i)
        if m:
            depth, j, quote = 1, m.end(), None
            while j < len(text) and depth:
                c = text[j]
                if quote:
                    # Bicep escapes quotes in strings (`gateway\'s`).
                    if c == "\\":
                        j += 1
                    elif c == quote:
                        quote = None
                elif c == "'":
                    quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def squash(text):
    return re.sub(r"\s+", " ", text).strip()


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def bicep_interface(source):
    """{param: hash of its type, with the local types it names spelled out}."""
    text = drop_decorators(strip_comments(source))
    types = {}
    for m in re.finditer(r"^type\s+(\w+)\s*=", text, re.M):
        end = balanced(text, m.end())
        while end < len(text) and text[end] == "=":  # `=` inside a type is not possible; be safe
            end = balanced(text, end + 1)
        types[m.group(1)] = squash(text[m.end():end])

    def expand(ty, seen):
        words = set(re.findall(r"\b\w+\b", ty)) & set(types) - seen
        return ty + "".join(f" |{w}: " + expand(types[w], seen | {w}) for w in sorted(words))

    out = {}
    for m in re.finditer(r"^param\s+(\w+)\s+", text, re.M):
        end = balanced(text, m.end())
        out[m.group(1)] = digest(expand(squash(text[m.end():end]), set()))
    return out


def terraform_variables(files):
    """{variable: hash of its `type`} from the root module's .tf files."""
    out = {}
    for source in files:
        text = source
        # Heredocs hold free text (descriptions with braces); drop them first.
        text = re.sub(r"<<-?(\w+)\n.*?\n\s*\1\s*\n", '""\n', text, flags=re.S)
        text = strip_comments(text)
        for m in re.finditer(r'^variable\s+"([^"]+)"\s*\{', text, re.M):
            depth, i, quote = 1, m.end(), None
            while i < len(text) and depth:
                c = text[i]
                if quote:
                    if c == "\\":
                        i += 1
                    elif c == quote:
                        quote = None
                elif c == '"':
                    quote = c
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                i += 1
            body = text[m.end():i - 1]
            t = re.search(r"^\s*type\s*=\s*", body, re.M)
            ty = squash(body[t.end():balanced(body, t.end())]) if t else "any"
            out[m.group(1)] = digest(ty)
    return out


def hcl_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit(name, language, repository, versions):
    lines = [f"module {hcl_string(name)} {{", f"  language   = {hcl_string(language)}", f"  repository = {hcl_string(repository)}"]
    for v, (date, inputs) in sorted(versions.items(), key=lambda kv: key(kv[0])):
        lines.append(f"  version {hcl_string(v)} {{")
        lines.append(f"    released = {hcl_string(date)}")
        lines.append("    inputs = {")
        width = max((len(k) for k in inputs), default=0)
        for k in sorted(inputs):
            lines.append(f"      {k.ljust(width)} = {hcl_string(inputs[k])}")
        lines.append("    }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bicep", help="git directory of Azure/bicep-registry-modules")
    p.add_argument("--terraform", action="append", default=[], metavar="SOURCE=GITDIR",
                   help="a Terraform registry source and the git directory of its repository")
    args = p.parse_args()
    blocks = []
    if args.bicep:
        all_tags = tags(args.bicep)
        for module in BICEP_MODULES:
            versions = {}
            for tag, date in all_tags:
                if not tag.startswith(module + "/"):
                    continue
                v = tag[len(module) + 1:]
                if not VERSION.match(v):
                    continue
                src = show(args.bicep, tag, f"{module}/main.bicep")
                if src is not None:
                    versions[v] = (date, bicep_interface(src))
            blocks.append(emit(module, "bicep", "https://github.com/Azure/bicep-registry-modules", versions))
    for spec in args.terraform:
        source, repo = spec.split("=", 1)
        root, _, sub = source.partition("//")
        namespace, name, provider = root.split("/")
        prefix = sub.rstrip("/") + "/" if sub else ""
        versions = {}
        for tag, date in tags(repo):
            m = SLOPPY.match(tag)
            v = m.group(1) if m else tag.lstrip("v")
            if not (VERSION.match(tag) or m) or (m and v in versions):
                continue
            files = git(repo, "ls-tree", "--name-only", tag, *(["--", prefix] if prefix else [])).split()
            tf = [show(repo, tag, f) for f in files if f.endswith(".tf")]
            if sub and not tf:
                continue  # the submodule does not exist at this tag
            versions[v] = (date, terraform_variables([t for t in tf if t]))
        blocks.append(emit(source, "terraform", f"https://github.com/{namespace}/terraform-{provider}-{name}", versions))
    print("# Generated by policies/modules/generate.py from the modules' public sources; do not edit.")
    print("# Each version lists its inputs with a hash of the input's declared type.")
    print()
    print("\n\n".join(blocks))


if __name__ == "__main__":
    sys.exit(main())
