import t from 'tap'
import { addressGroup } from '../src/peer-address.js'

t.test('an IPv4 address is its own group', async (t) => {
  t.equal(addressGroup('203.0.113.9'), '203.0.113.9')
  t.equal(addressGroup('127.0.0.1'), '127.0.0.1')
})

t.test('an IPv6 address counts by its /64, however it is written', async (t) => {
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd', '2001:db8:0:1::/64'],
    ['2001:db8:0:1::9', '2001:db8:0:1::/64'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4::/64'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3::', '1:2:3:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ]
  for (const [address, group] of cases) t.equal(addressGroup(address), group, address)
  t.equal(addressGroup('2001:db8:1:2::5'), addressGroup('2001:db8:1:2:ffff::9'), 'one /64, one group')
  t.not(addressGroup('2001:db8:1:2::5'), addressGroup('2001:db8:1:3::5'), 'the next /64 is another')
})
