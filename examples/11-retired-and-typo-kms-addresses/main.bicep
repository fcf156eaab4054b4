resource legacyNsg 'Microsoft.Network/networkSecurityGroups@2023-04-01' = {
  name: 'nsg-legacy'
  location: resourceGroup().location
  properties: {
    securityRules: [
      {
        name: 'allow-kms'
        properties: {
          priority: 200
          direction: 'Outbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourcePortRange: '*'
          destinationPortRange: '1688'
          sourceAddressPrefix: '*'
          destinationAddressPrefix: '23.102.135.246'
        }
      }
    ]
  }
}

resource legacyRt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-legacy'
  location: resourceGroup().location
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }
      }
      {
        name: 'kms-1'
        properties: {
          addressPrefix: '20.118.99.244/32'
          nextHopType: 'Internet'
        }
      }
      {
        name: 'kms-2'
        properties: {
          addressPrefix: '40.83.235.53/32'
          nextHopType: 'Internet'
        }
      }
    ]
  }
}
