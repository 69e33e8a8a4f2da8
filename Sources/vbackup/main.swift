import VBackupCLI

VBackupCommand.runMain()
