// The same spoke with the KMS routes to next hop Internet beside the
// forced tunnel, and an NSG that leaves platform DNS alone.
param firewallIP string = '10.0.1.4'

module routeTable 'br/public:avm/res/network/route-table:0.4.0' = {
  name: 'rt-spoke'
  params: {
    name: 'rt-spoke'
    routes: [
      {
        name: 'azure-kms-1'
        properties: {
          addressPrefix: '20.118.99.224/32'
          nextHopType: 'Internet'
        }
      }
      {
        name: 'azure-kms-2'
        properties: {
          addressPrefix: '40.83.235.53/32'
          nextHopType: 'Internet'
        }
      }
      {
        name: 'azure-kms-3'
        properties: {
          addressPrefix: '23.102.135.246/32'
          nextHopType: 'Internet'
        }
      }
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
        name: 'deny-internet'
        properties: {
          access: 'Deny'
          direction: 'Outbound'
          priority: 100
          protocol: 'Tcp'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: 'Internet'
          destinationPortRange: '8080'
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
