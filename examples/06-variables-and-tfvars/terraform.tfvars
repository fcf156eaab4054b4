firewall_ip     = "10.0.1.4"
egress_next_hop = "VirtualAppliance"
