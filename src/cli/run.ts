#!/usr/bin/env node
/** The `labkluis` entry point: runs the CLI and sets the exit code (see main.ts for the codes). */
import { main } from './main.js';

process.exitCode = await main(process.argv);
