from shieldlab.cli import main

main()
