#!/usr/bin/env python3
"""Writes a synthetic landing-zone monorepo of N spoke modules for benchmarks.

Each spoke directory holds variables, a route table with a dynamic route
block, an NSG with ~20 rules, a subnet and its associations; every tenth
spoke forgets its KMS routes on purpose. With --bicep, every spoke also gets
a Bicep twin. Output is deterministic.

    python3 bench/generate.py 1000 /tmp/lz
"""
import os
import sys

def spoke_tf(i):
    broken = i % 10 == 0
    kms = "" if broken else '''
    azure-kms-1 = { prefix = "20.118.99.224/32", hop = "Internet" }
    azure-kms-2 = { prefix = "40.83.235.53/32", hop = "Internet" }'''
    allow_kms = "" if broken else '''
  security_rule {
    name                         = "allow-kms"
    priority                     = 3000
    direction                    = "Outbound"
    access                       = "Allow"
    protocol                     = "Tcp"
    source_port_range            = "*"
    destination_port_range       = "1688"
    source_address_prefix        = "*"
    destination_address_prefixes = ["20.118.99.224", "40.83.235.53"]
  }
'''
    rules = "\n".join(
        f'''  security_rule {{
    name                       = "allow-app-{r}"
    priority                   = {100 + r * 10}
    direction                  = "{'Inbound' if r % 2 else 'Outbound'}"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "{8000 + r}"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "10.{i % 250}.{r}.0/24"
  }}'''
        for r in range(19)
    )
    return f'''variable "firewall_ip" {{
  type    = string
  default = "10.0.1.4"
}}

variable "spoke_index" {{
  type    = number
  default = {i}
}}

locals {{
  name = "spoke-${{var.spoke_index}}"
  routes = {{
    default = {{ prefix = "0.0.0.0/0", hop = "VirtualAppliance" }}
    onprem  = {{ prefix = "192.168.0.0/16", hop = "VirtualAppliance" }}{kms}
  }}
}}

resource "azurerm_route_table" "spoke" {{
  name                          = "rt-${{local.name}}"
  location                      = "westeurope"
  resource_group_name           = "rg-${{local.name}}"
  bgp_route_propagation_enabled = false

  dynamic "route" {{
    for_each = local.routes
    content {{
      name                   = route.key
      address_prefix         = route.value.prefix
      next_hop_type          = route.value.hop
      next_hop_in_ip_address = route.value.hop == "VirtualAppliance" ? var.firewall_ip : null
    }}
  }}
}}

resource "azurerm_network_security_group" "spoke" {{
  name                = "nsg-${{local.name}}"
  location            = "westeurope"
  resource_group_name = "rg-${{local.name}}"

{rules}

{allow_kms}
  security_rule {{
    name                       = "deny-internet"
    priority                   = 4000
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "Internet"
  }}
}}

resource "azurerm_subnet" "workload" {{
  name                 = "snet-workload"
  resource_group_name  = "rg-${{local.name}}"
  virtual_network_name = "vnet-${{local.name}}"
  address_prefixes     = ["10.{i % 250}.0.0/24"]
}}

resource "azurerm_subnet_route_table_association" "workload" {{
  subnet_id      = azurerm_subnet.workload.id
  route_table_id = azurerm_route_table.spoke.id
}}

resource "azurerm_subnet_network_security_group_association" "workload" {{
  subnet_id                 = azurerm_subnet.workload.id
  network_security_group_id = azurerm_network_security_group.spoke.id
}}
'''

def spoke_bicep(i):
    broken = i % 10 == 0
    kms = "" if broken else """
  { name: 'azure-kms-1', prefix: '20.118.99.224/32', hop: 'Internet' }
  { name: 'azure-kms-2', prefix: '40.83.235.53/32', hop: 'Internet' }"""
    return f"""param firewallIp string = '10.0.1.4'

var routes = [
  {{ name: 'default', prefix: '0.0.0.0/0', hop: 'VirtualAppliance' }}{kms}
]

resource rt 'Microsoft.Network/routeTables@2023-04-01' = {{
  name: 'rt-spoke-{i}-bicep'
  location: resourceGroup().location
  properties: {{
    routes: [for r in routes: {{
      name: r.name
      properties: {{
        addressPrefix: r.prefix
        nextHopType: r.hop
        nextHopIpAddress: r.hop == 'VirtualAppliance' ? firewallIp : null
      }}
    }}]
  }}
}}
"""

def main():
    if len(sys.argv) < 3:
        sys.exit("usage: generate.py N DIR [--bicep]")
    n, root = int(sys.argv[1]), sys.argv[2]
    bicep = "--bicep" in sys.argv[3:]
    for i in range(n):
        d = os.path.join(root, "spokes", f"spoke-{i:05d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "main.tf"), "w") as f:
            f.write(spoke_tf(i))
        if bicep:
            with open(os.path.join(d, "main.bicep"), "w") as f:
                f.write(spoke_bicep(i))

if __name__ == "__main__":
    main()
