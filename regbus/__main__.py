from regbus.cli import main

main()
