resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke-vnet'
  location: resourceGroup().location
  properties: {
    routes: [
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet-spoke'
  location: resourceGroup().location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.20.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'snet-app'
        properties: {
          addressPrefix: '10.20.1.0/24'
          routeTable: {
            id: spoke.id
          }
        }
      }
      {
        name: 'snet-data'
        properties: {
          addressPrefix: '10.20.2.0/24'
          routeTable: {
            id: resourceId('Microsoft.Network/routeTables', 'rt-spoke-vnet')
          }
        }
      }
      {
        name: 'snet-free'
        properties: {
          addressPrefix: '10.20.3.0/24'
        }
      }
    ]
  }
}
