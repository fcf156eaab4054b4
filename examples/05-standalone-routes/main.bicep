resource hub 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-hub'
  location: resourceGroup().location
  properties: {
    disableBgpRoutePropagation: true
  }
}

resource defaultRoute 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  parent: hub
  name: 'default-to-nva'
  properties: {
    addressPrefix: '0.0.0.0/0'
    nextHopType: 'VirtualAppliance'
    nextHopIpAddress: '10.10.0.4'
  }
}

resource kmsRoute 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  name: 'rt-hub/kms-primary'
  properties: {
    addressPrefix: '20.118.99.224/32'
    nextHopType: 'Internet'
  }
}
