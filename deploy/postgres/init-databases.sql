-- One database per service: no service reads another's tables.
CREATE DATABASE aftersales_intake ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE aftersales_dispatch ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE aftersales_parts ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE aftersales_feedback ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE aftersales_console ENCODING 'UTF8' TEMPLATE template0;
