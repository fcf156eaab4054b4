// A hub from Azure Verified Modules: a firewall whose policy only lets
// HTTPS out, the route table that sends spokes to it, and a VPN gateway
// with BGP in the same network as a shared-services subnet.

resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet-hub'
  location: 'westeurope'
  properties: {
    addressSpace: { addressPrefixes: [ '10.0.0.0/16' ] }
    subnets: [
      { name: 'GatewaySubnet', properties: { addressPrefix: '10.0.255.0/27' } }
      { name: 'AzureFirewallSubnet', properties: { addressPrefix: '10.0.254.0/26' } }
      { name: 'snet-shared', properties: { addressPrefix: '10.0.1.0/24' } }
    ]
  }
}

module policy 'br/public:avm/res/network/firewall-policy:0.3.1' = {
  name: 'policy'
  params: {
    name: 'afwp-hub'
    ruleCollectionGroups: [
      {
        name: 'egress'
        priority: 200
        ruleCollections: [
          {
            name: 'allow-https'
            priority: 100
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
            action: { type: 'Allow' }
            rules: [
              {
                name: 'https-out'
                ruleType: 'NetworkRule'
                ipProtocols: [ 'TCP' ]
                sourceAddresses: [ '10.0.0.0/8' ]
                destinationAddresses: [ '*' ]
                destinationPorts: [ '443' ]
              }
            ]
          }
        ]
      }
    ]
  }
}

module firewall 'br/public:avm/res/network/azure-firewall:0.9.2' = {
  name: 'firewall'
  params: {
    name: 'afw-hub'
    virtualNetworkResourceId: vnet.id
    firewallPolicyId: policy.outputs.resourceId
  }
}

module gateway 'br/public:avm/res/network/virtual-network-gateway:0.8.0' = {
  name: 'gateway'
  params: {
    name: 'vgw-hub'
    gatewayType: 'Vpn'
    clusterSettings: { clusterMode: 'activeActiveBgp' }
    virtualNetworkResourceId: vnet.id
  }
}

module routeTable 'br/public:avm/res/network/route-table:0.4.1' = {
  name: 'routeTable'
  params: {
    name: 'rt-spokes'
    routes: [
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: firewall.outputs.privateIp
        }
      }
    ]
  }
}
