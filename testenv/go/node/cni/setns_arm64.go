//go:build linux && arm64

package main

const sysSetns = 268
