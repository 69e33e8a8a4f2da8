import VBackupCLI

VBackupCommand.main()
