from schedules.runner import main

main()
