#!/usr/bin/env python3
"""Writes a repository of N root modules that all call one shared module,
for measuring what a pre-commit run on one changed file costs.

    python3 bench/changed.py 1000 /tmp/repo

Each root `envs/envNNNN` has a main.tf calling `../../modules/spoke` with
`for_each` over its terraform.tfvars (three spokes); the shared module holds
a forced-tunnel route table whose KMS routes a variable turns on. Every
tenth root turns one spoke's routes off. Output is deterministic.
"""
import os
import sys

MODULE = '''variable "name" {
  type = string
}

variable "kms" {
  type    = bool
  default = true
}

resource "azurerm_route_table" "this" {
  name                = "rt-${var.name}"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
  dynamic "route" {
    for_each = var.kms ? ["20.118.99.224/32", "40.83.235.53/32"] : []
    content {
      name           = "kms-${route.key}"
      address_prefix = route.value
      next_hop_type  = "Internet"
    }
  }
}
'''

ROOT = '''variable "spokes" {
  type = map(object({ kms = bool }))
}

module "spoke" {
  source   = "../../modules/spoke"
  for_each = var.spokes
  name     = "${each.key}-%(i)04d"
  kms      = each.value.kms
}
'''


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(os.path.join(out, ".git"), exist_ok=True)
    write(os.path.join(out, "modules", "spoke", "main.tf"), MODULE)
    for i in range(n):
        root = os.path.join(out, "envs", "env%04d" % i)
        write(os.path.join(root, "main.tf"), ROOT % {"i": i})
        db = "false" if i % 10 == 0 else "true"
        write(os.path.join(root, "terraform.tfvars"),
              "spokes = {\n  web = { kms = true }\n  app = { kms = true }\n  db  = { kms = %s }\n}\n" % db)


if __name__ == "__main__":
    main()
