variable "firewall_ip" {
  type = string
}

variable "egress_next_hop" {
  type    = string
  default = "Internet"
}

variable "kms_addresses" {
  type    = list(string)
  default = []
}
