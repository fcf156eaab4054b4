using './main.bicep'

param environment = 'prod'
param firewallIp = '10.0.1.4'
param egressNextHop = 'VirtualAppliance'
