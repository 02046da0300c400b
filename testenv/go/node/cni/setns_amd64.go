//go:build linux && amd64

package main

const sysSetns = 308
