resource lockedDown 'Microsoft.Network/networkSecurityGroups@2023-04-01' = {
  name: 'nsg-locked-down'
  location: resourceGroup().location
  properties: {
    securityRules: [
      {
        name: 'allow-https-to-azure'
        properties: {
          priority: 100
          direction: 'Outbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourcePortRange: '*'
          destinationPortRange: '443'
          sourceAddressPrefix: 'VirtualNetwork'
          destinationAddressPrefix: 'AzureCloud'
        }
      }
      {
        name: 'deny-internet'
        properties: {
          priority: 4000
          direction: 'Outbound'
          access: 'Deny'
          protocol: '*'
          sourcePortRange: '*'
          destinationPortRange: '*'
          sourceAddressPrefix: '*'
          destinationAddressPrefix: 'Internet'
        }
      }
    ]
  }
}
