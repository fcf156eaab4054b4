resource workload 'Microsoft.Network/networkSecurityGroups@2023-04-01' = {
  name: 'nsg-workload'
  location: resourceGroup().location
  properties: {
    securityRules: [
      {
        name: 'deny-kms'
        properties: {
          priority: 100
          direction: 'Outbound'
          access: 'Deny'
          protocol: 'Tcp'
          sourcePortRange: '*'
          destinationPortRange: '1688'
          sourceAddressPrefix: '*'
          destinationAddressPrefix: 'AzurePlatformLKM'
        }
      }
      {
        name: 'deny-azure-dns'
        properties: {
          priority: 110
          direction: 'Outbound'
          access: 'Deny'
          protocol: '*'
          sourcePortRange: '*'
          destinationPortRange: '53'
          sourceAddressPrefix: '*'
          destinationAddressPrefix: 'AzurePlatformDNS'
        }
      }
      {
        name: 'deny-imds'
        properties: {
          priority: 120
          direction: 'Outbound'
          access: 'Deny'
          protocol: 'Tcp'
          sourcePortRange: '*'
          destinationPortRanges: [
            '80'
            '443'
          ]
          sourceAddressPrefix: 'VirtualNetwork'
          destinationAddressPrefix: 'AzurePlatformIMDS'
        }
      }
    ]
  }
}
