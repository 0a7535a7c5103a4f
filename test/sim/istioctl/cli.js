#!/usr/bin/env node
// Run the simulated istioctl from the source tree: node test/sim/istioctl/cli.js <args>
import { run } from './main.js'

run()
