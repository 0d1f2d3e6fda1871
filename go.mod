module pppoed

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/mdlayher/packet v1.2.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/mdlayher/socket v0.7.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
)
