from stocky.cli import main

main()
