// A spoke network built from Azure Verified Modules, as the AKS landing
// zone accelerator writes it: the route table sends everything to the hub
// firewall and has no KMS routes.
param firewallIP string = '10.0.1.4'

module routeTable 'br/public:avm/res/network/route-table:0.4.0' = {
  name: 'rt-spoke'
  params: {
    name: 'rt-spoke'
    routes: [
      {
        name: 'vm-to-internet'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopIpAddress: firewallIP
          nextHopType: 'VirtualAppliance'
        }
      }
    ]
  }
}

module nsg 'br:mcr.microsoft.com/bicep/avm/res/network/network-security-group:0.5.0' = {
  name: 'nsg-spoke'
  params: {
    name: 'nsg-spoke'
    securityRules: [
      {
        name: 'deny-cloud'
        properties: {
          access: 'Deny'
          direction: 'Outbound'
          priority: 100
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: 'AzurePlatformDNS'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

module vnet 'br/public:avm/res/network/virtual-network:0.5.1' = {
  name: 'vnet-spoke'
  params: {
    name: 'vnet-spoke'
    addressPrefixes: ['10.1.0.0/16']
    subnets: [
      {
        name: 'snet-aks'
        addressPrefix: '10.1.0.0/24'
        routeTableResourceId: routeTable.outputs.resourceId
        networkSecurityGroupResourceId: nsg.outputs.resourceId
      }
    ]
  }
}

// Private DNS zones and identities deploy nothing kmsguard checks: no note.
module dnsZone 'br/public:avm/res/network/private-dns-zone:0.6.0' = {
  name: 'dns'
  params: {
    name: 'privatelink.azurecr.io'
  }
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.0' = {
  name: 'id'
  params: {
    name: 'id-aks'
  }
}
